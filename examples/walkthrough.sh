#!/bin/sh
# walkthrough.sh: the main job until the detect-diagnose-fix demo lands.
# It walks a fresh, throw-away store through one incident's whole life,
# printing each sre command before its output, so a newcomer sees what sre
# records and how. Your own store and configuration are not touched.
#
# usage: examples/walkthrough.sh [path/to/sre]
set -eu

SRE=${1:-sre}
case "$SRE" in */*) SRE=$(cd "$(dirname "$SRE")" && pwd)/$(basename "$SRE") ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/sre-walkthrough.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# A private HOME: nothing of the user's configuration applies.
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
	XDG_STATE_HOME="$work/home/.local/state" SRE_CONFIG_NOSYSTEM=1
unset SRE_CONFIG
mkdir -p "$HOME"
cd "$work"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$(printf '\033[1m') off=$(printf '\033[m')
else bold= off=; fi

step() {
	printf '\n%s== %s%s\n' "$bold" "$1" "$off" >&2
}

# Show the command as one would type it (to stderr, so $(run ...) captures
# only what sre printed), then run it.
run() {
	line='$'
	for a in "$@"; do
		case "$a" in
		*[!A-Za-z0-9_./:=-]*) line="$line '$a'" ;;
		*) line="$line $a" ;;
		esac
	done
	printf '%s\n' "$line" >&2
	"$@"
}

sre() {
	"$SRE" -c core.actor=walkthrough "$@"
}

step "A health check fails: an incident is opened (sre scout will do this)"
id=$(run sre incident open --service checkout --title "checkout returns 503" \
	--severity high --source health-check)
echo "$id"

step "It fails again a minute later: the same incident, one more occurrence"
run sre incident open --service checkout --title "checkout returns 503" \
	--severity high --source health-check

step "What is open"
run sre incident list

step "Diagnosis (sre diagnose will do this): the rule engine reads the evidence"
run sre incident transition "$id" ANALYSIS_IN_PROGRESS --reason "collecting evidence"
run sre incident comment "$id" "pod checkout-7d9f was OOMKilled 3 times in 10 minutes"
run sre incident transition "$id" ANALYSIS_COMPLETE --reason "category oom: memory limit too low"

step "A forbidden move is refused, naming both states"
run sre incident transition "$id" PR_MERGED || true

step "The fix (sre fix will do this): a direct action skips the pull-request states"
run sre incident transition "$id" FIX_GENERATION_IN_PROGRESS
run sre incident transition "$id" FIX_GENERATED --reason "restart with a 512Mi limit"
run sre incident transition "$id" DEPLOYMENT_IN_PROGRESS
run sre incident transition "$id" DEPLOYMENT_COMPLETE
run sre incident transition "$id" VERIFICATION_IN_PROGRESS
run sre incident transition "$id" VERIFICATION_COMPLETE --reason "health check green for 5m"
run sre incident transition "$id" INCIDENT_RESOLVED

step "The whole story, as an engineer reads it"
run sre incident show "$id"

step "The same, for scripts"
run sre incident show --json "$id" | head -n 20
echo "..."

step "Nothing is open any more; --all shows the history"
run sre incident list
run sre incident list --all

printf '\nThe store was %s (removed now).\n' "$XDG_STATE_HOME/sre/sre.db"
