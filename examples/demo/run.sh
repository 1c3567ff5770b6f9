#!/bin/sh
# run.sh: the detect, diagnose, fix loop on one machine (`make demo`).
#
# Starts quote-service -> policy-service -> user-service (examples/demo/
# demo-service.c) on free loopback ports with a fresh store in a scratch
# directory, then for each scenario injects a fault through the service's
# admin port and runs what cron and an engineer would: `sre scout` until
# an incident opens, `sre diagnose`, `sre fix --yes` (the demo's policy
# allows restart), and `sre scout` until every incident is resolved. It
# prints, per scenario, whether the fault was detected and how fast, the
# category diagnosed against the one expected, the action taken, and
# whether it was verified resolved and how fast; then a summary. The stack
# is stopped on exit, on Ctrl-C and on failure: no process is left behind.
#
# Exit 0 only if every scenario was detected, diagnosed as expected and
# resolved. The environment can narrow or record a run (tests/t7000):
#   DEMO_SCENARIOS="crash leak"   which scenarios, in order
#   DEMO_RESULTS=file             one tab-separated line per scenario
#   DEMO_KEEP=1                   keep the scratch directory
#   SRE, DEMO_SERVICE             the binaries (make passes both)
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRE=${SRE:-$here/../../sre}
DEMO_SERVICE=${DEMO_SERVICE:-$here/../../build/demo/demo-service}
scenarios=${DEMO_SCENARIOS:-crash leak errors latency conversion}
results=${DEMO_RESULTS:-}
services="user-service policy-service quote-service"

for f in "$SRE" "$DEMO_SERVICE"; do
	[ -x "$f" ] || { echo "demo: $f is not built (run make demo)" >&2; exit 128; }
done
command -v python3 >/dev/null || { echo "demo: python3 is needed for the demo's HTTP calls" >&2; exit 128; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/sre-demo.XXXXXX") || exit 128
stopping=
cleanup() {
	[ -n "$stopping" ] && return
	stopping=1
	for s in quote-service policy-service user-service; do
		"$here/demo-ctl" stop "$s" "$dir" 2>/dev/null
	done
	[ -n "${DEMO_KEEP:-}" ] && echo "demo: kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# sre sees the demo's configuration and store only: not the user's.
SRE_CONFIG=$dir/config
XDG_CONFIG_HOME=$dir/xdg-config
XDG_STATE_HOME=$dir/xdg-state
export SRE_CONFIG XDG_CONFIG_HOME XDG_STATE_HOME
unset SRE_NOW SRE_TRACE
sre() { "$SRE" --db "$dir/sre.db" "$@"; }

# HTTP for the demo's own calls: GET or POST url, print the body.
http() {
	python3 - "$@" <<-\EOT
	import sys, urllib.request
	method, url = sys.argv[1], sys.argv[2]
	req = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
	try:
	    print(urllib.request.urlopen(req, timeout=5).read().decode(), end="")
	except Exception as e:
	    print("demo: %s %s: %s" % (method, url, e), file=sys.stderr)
	    sys.exit(1)
	EOT
}

# A field of sre's JSON on stdin: json_field key [key...]
json_field() {
	python3 -c 'import json, sys
j = json.load(sys.stdin)
for k in sys.argv[1:]:
    j = j[k] if isinstance(j, dict) else j[int(k)]
print("" if j is None else j)' "$@"
}

open_incidents() {
	sre incident list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

now() { date +%s.%N; }
since() { python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$(now)"; }

# ---- the stack ----

python3 - >"$dir/ports" <<-\EOT || exit 128
import socket
names = ["QUOTE_PORT", "QUOTE_ADMIN", "POLICY_PORT", "POLICY_ADMIN", "USER_PORT", "USER_ADMIN"]
socks = []
for n in names:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    print("%s=%d" % (n, s.getsockname()[1]))
EOT
. "$dir/ports"
echo "$DEMO_SERVICE" >"$dir/bin"
mkdir -p "$dir/spool" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
sed -e "s|@DIR@|$dir|g" -e "s|@CTL@|$here/demo-ctl|g" -e "s|@QUOTE_PORT@|$QUOTE_PORT|g" \
    -e "s|@POLICY_PORT@|$POLICY_PORT|g" -e "s|@USER_PORT@|$USER_PORT|g" \
    "$here/config.in" >"$dir/config"

echo "demo: starting quote-service -> policy-service -> user-service in $dir"
for s in $services; do
	"$here/demo-ctl" start "$s" "$dir" || exit 1
done
sleep 3   # traffic, traces and metrics to look at

admin_port() {
	case $1 in
	quote-service) echo "$QUOTE_ADMIN" ;;
	policy-service) echo "$POLICY_ADMIN" ;;
	user-service) echo "$USER_ADMIN" ;;
	esac
}

# ---- the scenarios ----

printf '\n%-11s %-9s %-8s %-34s %-26s %-9s %s\n' SCENARIO DETECTED SECONDS "DIAGNOSED (EXPECTED)" ACTION RESOLVED SECONDS
passed=0 total=0 last_id=0
[ -n "$results" ] && : >"$results"

for scenario in $scenarios; do
	case $scenario in
	crash) svc=quote-service fault=crash expect=crash ;;
	leak) svc=policy-service fault=leak expect=oom ;;
	errors) svc=user-service fault='errors?rate=0.5' expect=dependency ;;
	latency) svc=policy-service fault='latency?ms=800' expect=latency ;;
	conversion) svc=quote-service fault=conversion expect=business-metric ;;
	*) echo "demo: no scenario $scenario" >&2; exit 129 ;;
	esac
	total=$((total + 1))
	detected=no detect_s=- category=- action=- resolved=no resolve_s=- id=
	t0=$(now)
	http POST "http://127.0.0.1:$(admin_port $svc)/fault/$fault" >/dev/null

	# cron: scout until a new incident opens
	i=0
	while [ $i -lt 30 ] && [ -z "$id" ]; do
		for n in $(sre scout --porcelain 2>/dev/null); do
			if [ "$n" -gt "$last_id" ] && { [ -z "$id" ] || [ "$n" -lt "$id" ]; }; then
				id=$n
			fi
		done
		[ -z "$id" ] && sleep 1
		i=$((i + 1))
	done
	if [ -n "$id" ]; then
		detected=yes detect_s=$(since "$t0")
		# The stand-in for Jaeger spools spans up to a second late, as a
		# real collector's ingestion lags: let the evidence arrive.
		sleep 2
		category=$(sre diagnose --json "$id" 2>/dev/null | json_field category)
		action=$(sre incident show --json "$id" >/dev/null 2>&1 &&
			 sre fix --dry-run --json "$id" 2>/dev/null | python3 -c 'import json, sys
p = json.load(sys.stdin)
print("%s %s" % (p["action"], p["target"] or ""))')
		sre fix --yes "$id" </dev/null >"$dir/fix-$scenario.out" 2>&1
		# every incident of the scenario resolved: the fixed one, and
		# those that followed from it (recovered in scout's later runs)
		i=0
		while [ $i -lt 40 ]; do
			sre scout >/dev/null 2>&1
			if [ "$(open_incidents)" = 0 ]; then
				resolved=yes resolve_s=$(since "$t0")
				break
			fi
			sleep 1
			i=$((i + 1))
		done
		for n in $(sre incident list --all --json | python3 -c 'import json, sys
print(" ".join(str(i["id"]) for i in json.load(sys.stdin)))'); do
			[ "$n" -gt "$last_id" ] && last_id=$n
		done
	fi
	# Whatever happened, the next scenario starts from a healthy stack.
	for s in $services; do
		http POST "http://127.0.0.1:$(admin_port $s)/fault/clear" >/dev/null 2>&1
	done
	for n in $(sre incident list --json | python3 -c 'import json, sys
print(" ".join(str(i["id"]) for i in json.load(sys.stdin)))'); do
		sre incident transition "$n" INCIDENT_RESOLVED --reason "demo: cleared for the next scenario" >/dev/null 2>&1
		[ "$n" -gt "$last_id" ] && last_id=$n
	done
	ok=no
	[ "$detected" = yes ] && [ "$category" = "$expect" ] && [ "$resolved" = yes ] && ok=yes
	[ $ok = yes ] && passed=$((passed + 1))
	printf '%-11s %-9s %-8s %-34s %-26s %-9s %s\n' "$scenario" "$detected" "$detect_s" \
		"$category ($expect)" "${action:--}" "$resolved" "$resolve_s"
	[ -n "$results" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$detected" "$category" \
		"$expect" "$action" "$resolved" >>"$results"
done

echo
echo "demo: $passed of $total scenarios detected, diagnosed as expected and resolved"
[ "$passed" -eq "$total" ]
