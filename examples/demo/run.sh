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
# Every wait is bounded in seconds, never in tries: a loaded machine makes
# each scout slower, and a count of tries is a guess at the speed. Each
# wait ends as soon as what it waits for is there, so an idle machine
# goes no slower for the bounds. A scenario that fails prints to stderr
# why: what sre said at each step (every scout's changes and errors, the
# diagnosis, the fix, the incidents left open), so that a failure in CI
# can be read from its log.
#
# Exit 0 only if every scenario was detected, diagnosed as expected and
# resolved. The environment can narrow or record a run (tests/t7000):
#   DEMO_SCENARIOS="crash leak"   which scenarios, in order
#   DEMO_RESULTS=file             one tab-separated line per scenario
#   DEMO_KEEP=1                   keep the scratch directory
#   DEMO_DETECT_TIMEOUT=60        seconds from a fault to its incident
#   DEMO_RESOLVE_TIMEOUT=90       seconds from the fix to no incident open
#   SRE, DEMO_SERVICE             the binaries (make passes both)
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRE=${SRE:-$here/../../sre}
DEMO_SERVICE=${DEMO_SERVICE:-$here/../../build/demo/demo-service}
scenarios=${DEMO_SCENARIOS:-crash leak errors latency conversion}
results=${DEMO_RESULTS:-}
detect_timeout=${DEMO_DETECT_TIMEOUT:-60}
resolve_timeout=${DEMO_RESOLVE_TIMEOUT:-90}
services="user-service policy-service quote-service"

for f in "$SRE" "$DEMO_SERVICE"; do
	[ -x "$f" ] || { echo "demo: $f is not built (run make demo)" >&2; exit 128; }
done
command -v python3 >/dev/null || { echo "demo: python3 is needed for the demo's HTTP calls" >&2; exit 128; }
for t in "$detect_timeout" "$resolve_timeout"; do
	case $t in
	''|*[!0-9]*) echo "demo: a timeout is whole seconds, not '$t'" >&2; exit 129 ;;
	esac
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/sre-demo.XXXXXX") || exit 128
stopping=
prometheus_pid=
cleanup() {
	[ -n "$stopping" ] && return
	stopping=1
	for s in quote-service policy-service user-service; do
		"$here/demo-ctl" stop "$s" "$dir" 2>/dev/null
	done
	if [ -n "$prometheus_pid" ]; then
		kill "$prometheus_pid" 2>/dev/null
		wait "$prometheus_pid" 2>/dev/null
	fi
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
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# A deadline at least n seconds from now (whole seconds), and whether it has passed.
deadline_in() { echo $(($(date +%s) + $1 + 1)); }
past() { [ "$(date +%s)" -ge "$1" ]; }

# ---- the transcript: what sre said, step by step, for a failure's why ----

log=/dev/null t0=0
note() { printf '  %7s  %s\n' "+$(since "$t0")s" "$*" >>"$log"; }
# A file's lines into the transcript, under the last note.
quote_file() { [ -s "$1" ] && sed 's/^/             | /' "$1" >>"$log"; }

# One `sre scout`: its changes and errors into the transcript; prints the
# ids of the incidents it opened or updated. -v: an incident that is still
# failing the same way is "updated" too, as cron would not print it.
scout() {
	s0=$(now)
	sre scout -v >"$dir/scout.out" 2>"$dir/scout.err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$dir/scout.out" ] || [ -s "$dir/scout.err" ]; then
		note "scout (exit $rc, $(since "$s0")s):"
		quote_file "$dir/scout.out"
		quote_file "$dir/scout.err"
	else
		note "scout: nothing changed ($(since "$s0")s)"
	fi
	awk '$1 == "opened" || $1 == "updated" { print $2 }' "$dir/scout.out"
}

# ---- the stack ----

python3 - >"$dir/ports" <<-\EOT || exit 128
import socket
names = ["QUOTE_PORT", "QUOTE_ADMIN", "POLICY_PORT", "POLICY_ADMIN", "USER_PORT", "USER_ADMIN",
         "PROM_PORT"]
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
fill() {
	sed -e "s|@DIR@|$dir|g" -e "s|@CTL@|$here/demo-ctl|g" -e "s|@QUOTE_PORT@|$QUOTE_PORT|g" \
	    -e "s|@POLICY_PORT@|$POLICY_PORT|g" -e "s|@USER_PORT@|$USER_PORT|g" \
	    -e "s|@PROM_PORT@|$PROM_PORT|g" "$@"
}
fill "$here/config.in" >"$dir/config"

# A real Prometheus when one is installed (DEMO_PROMETHEUS=no: none): it
# scrapes the stack every second, and the conversion check becomes PromQL
# over it (examples/demo/prometheus.in).
prometheus=
if [ "${DEMO_PROMETHEUS:-yes}" != no ] && command -v prometheus >/dev/null 2>&1; then
	prometheus=$(command -v prometheus)
	cat >"$dir/prometheus.yml" <<-EOT
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	scrape_configs:
	  - job_name: demo
	    static_configs:
	      - targets: ['127.0.0.1:$QUOTE_PORT', '127.0.0.1:$POLICY_PORT', '127.0.0.1:$USER_PORT']
	EOT
	# The conversion check of config.in, up to the blank line after it, goes.
	sed -i '/^\[check "conversion-rate"\]/,/^$/d' "$dir/config"
	fill "$here/prometheus.in" >>"$dir/config"
fi

echo "demo: starting quote-service -> policy-service -> user-service in $dir"
for s in $services; do
	"$here/demo-ctl" start "$s" "$dir" || exit 1
done
if [ -n "$prometheus" ]; then
	"$prometheus" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
		>"$dir/prometheus.log" 2>&1 &
	prometheus_pid=$!
	echo "demo: Prometheus scrapes the stack every second; the conversion check is PromQL over it"
else
	echo "demo: no Prometheus (or DEMO_PROMETHEUS=no): the conversion check reads quote-service's own /metrics"
fi

# Wait until each live service of the stack has spooled its spans at or
# after the time t (seconds since the epoch), for at most seconds: each
# writes them once a second (a spool file's mtime is when), as a real
# collector's ingestion lags, and the stand-in for Jaeger answers as of
# the oldest. A service that is not running writes nothing: it is not
# waited for. 0 once they are in, 1 (and which are late) when time ran out.
spooled_since() {
	python3 - "$dir" "$1" "$2" <<-\EOT
	import os, sys, time
	dir, t, limit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
	names = ["quote-service", "policy-service", "user-service"]
	def alive(name):
	    try:
	        pid = int(open(os.path.join(dir, name + ".pid")).read())
	        state = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
	        return state not in ("Z", "X")
	    except (OSError, ValueError, IndexError):
	        return False
	def spooled(name):
	    try:
	        return os.stat(os.path.join(dir, "spool", name + ".spans")).st_mtime >= t
	    except OSError:
	        return False
	end = time.time() + limit
	while True:
	    late = [n for n in names if alive(n) and not spooled(n)]
	    if not late:
	        sys.exit(0)
	    if time.time() >= end:
	        print("not yet spooled: " + " ".join(late))
	        sys.exit(1)
	    time.sleep(0.1)
	EOT
}

# Traffic, traces and metrics to look at: two seconds of the stack's
# spans in the spool, every service's.
warm=$(awk -v t="$(now)" 'BEGIN { printf "%.3f", t + 2 }')
if ! why=$(spooled_since "$warm" 30); then
	echo "demo: the stack did not warm up in 30 s: $why" >&2
	exit 1
fi
# Prometheus up, and holding a window of quotes for the check to judge.
if [ -n "$prometheus" ] && ! python3 - "$PROM_PORT" <<-\EOT
	import json, sys, time, urllib.parse, urllib.request
	url = "http://127.0.0.1:%s/api/v1/query?query=" % sys.argv[1] + \
	      urllib.parse.quote("sum(increase(quotes_total[5s]))")
	end = time.time() + 30
	while time.time() < end:
	    try:
	        r = json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"]
	        if r and float(r[0]["value"][1]) >= 10:
	            sys.exit(0)
	    except Exception:
	        pass
	    time.sleep(0.2)
	sys.exit(1)
	EOT
then
	echo "demo: Prometheus did not hold five seconds of quotes in 30 s (see its log:" \
	     "$(tail -n 3 "$dir/prometheus.log" 2>/dev/null))" >&2
	exit 1
fi

admin_port() {
	case $1 in
	quote-service) echo "$QUOTE_ADMIN" ;;
	policy-service) echo "$POLICY_ADMIN" ;;
	user-service) echo "$USER_ADMIN" ;;
	esac
}

# Why a scenario failed: its transcript, the incidents still open and
# what each service said, to stderr.
explain() {
	{
		echo "demo: scenario $scenario failed: $1"
		cat "$log"
		echo "  incidents open now:"
		sre incident list 2>&1 | sed 's/^/             | /'
		for s in $services; do
			echo "  the last lines of $s's log:"
			tail -n 5 "$dir/$s.log" 2>/dev/null | sed 's/^/             | /'
		done
	} >&2
}

# ---- the scenarios ----

printf '\n%-11s %-9s %-8s %-34s %-26s %-9s %s\n' SCENARIO DETECTED SECONDS "DIAGNOSED (EXPECTED)" ACTION RESOLVED SECONDS
passed=0 total=0 last_id=0 ok=yes
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
	# After a failure, the fault's traces are still in scout's lookback:
	# let them age out, so that one failure does not fail the next.
	[ $ok = no ] && sleep 6
	total=$((total + 1))
	detected=no detect_s=- category=- action=- resolved=no resolve_s=- id= why=
	log=$dir/$scenario.transcript
	: >"$log"
	t0=$(now)
	if http POST "http://127.0.0.1:$(admin_port $svc)/fault/$fault" >/dev/null 2>"$dir/http.err"; then
		note "fault $fault injected into $svc"
	else
		note "fault $fault could not be injected into $svc:"
		quote_file "$dir/http.err"
	fi

	# cron: scout until a new incident opens
	deadline=$(deadline_in "$detect_timeout")
	while :; do
		for n in $(scout); do
			if [ "$n" -gt "$last_id" ] && { [ -z "$id" ] || [ "$n" -lt "$id" ]; }; then
				id=$n
			fi
		done
		[ -n "$id" ] && break
		if past "$deadline"; then
			why="no incident opened in ${detect_timeout}s"
			note "$why"
			break
		fi
		sleep 1
	done
	if [ -n "$id" ]; then
		detected=yes detect_s=$(since "$t0")
		note "incident $id: the scenario's (the first opened since the fault)"
		# Diagnose from the spans of the trouble: wait until every
		# service has spooled those of a second after the detection.
		if ! late=$(spooled_since "$(awk -v t="$(now)" 'BEGIN { printf "%.3f", t + 1 }')" 10); then
			note "diagnosing without waiting longer for the spans: $late"
		fi
		s0=$(now)
		sre diagnose --json "$id" >"$dir/diagnose.json" 2>"$dir/diagnose.err"
		rc=$?
		category=$(json_field category <"$dir/diagnose.json" 2>/dev/null)
		note "diagnose $id (exit $rc, $(since "$s0")s):"
		python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("no diagnosis in its output")
m = d["mitigation"]
print("%s (confidence %s): %s" % (d["category"], d["confidence"], d["root_cause"]))
print("mitigation: %s %s" % (m["action"], m["target"] or ""))
for e in d["evidence"]:
    print("  [%s] %s" % (e["source"], e["summary"]))
for f in d["findings"][1:]:
    print("other: %s (confidence %s): %s" % (f["category"], f["confidence"], f["root_cause"]))
for s in d["sources"]:
    if s["status"] != "ok":
        print("not read: %s (%s): %s" % (s["source"], s["status"], s["error"] or ""))' \
			"$dir/diagnose.json" >"$dir/diagnose.txt" 2>&1
		quote_file "$dir/diagnose.txt"
		quote_file "$dir/diagnose.err"
		action=$(sre incident show --json "$id" >/dev/null 2>&1 &&
			 sre fix --dry-run --json "$id" 2>/dev/null | python3 -c 'import json, sys
p = json.load(sys.stdin)
print("%s %s" % (p["action"], p["target"] or ""))')
		s0=$(now)
		sre fix --yes "$id" </dev/null >"$dir/fix.out" 2>&1
		rc=$?
		note "fix --yes $id (exit $rc, $(since "$s0")s):"
		quote_file "$dir/fix.out"
		# every incident of the scenario resolved: the fixed one, and
		# those that followed from it (recovered in scout's later runs)
		deadline=$(deadline_in "$resolve_timeout")
		while :; do
			scout >/dev/null
			open=$(open_incidents)
			if [ "$open" = 0 ]; then
				resolved=yes resolve_s=$(since "$t0")
				note "no incident open"
				break
			fi
			if past "$deadline"; then
				why="$open incident(s) still open ${resolve_timeout}s after the fix"
				note "$why"
				break
			fi
			sleep 1
		done
		for n in $(sre incident list --all --json | python3 -c 'import json, sys
print(" ".join(str(i["id"]) for i in json.load(sys.stdin)))'); do
			[ "$n" -gt "$last_id" ] && last_id=$n
		done
	fi
	ok=no
	if [ "$detected" = yes ] && [ "$category" != "$expect" ]; then
		why="diagnosed ${category:-nothing}, not $expect${why:+; $why}"
	fi
	[ "$detected" = yes ] && [ "$category" = "$expect" ] && [ "$resolved" = yes ] && ok=yes
	[ $ok = yes ] && passed=$((passed + 1))
	printf '%-11s %-9s %-8s %-34s %-26s %-9s %s\n' "$scenario" "$detected" "$detect_s" \
		"$category ($expect)" "${action:--}" "$resolved" "$resolve_s"
	[ $ok = no ] && explain "$why"
	[ -n "$results" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$detected" "$category" \
		"$expect" "$action" "$resolved" >>"$results"

	# Whatever happened, the next scenario starts from a healthy stack.
	for s in $services; do
		http POST "http://127.0.0.1:$(admin_port $s)/fault/clear" >/dev/null 2>&1
	done
	for n in $(sre incident list --json | python3 -c 'import json, sys
print(" ".join(str(i["id"]) for i in json.load(sys.stdin)))'); do
		sre incident transition "$n" INCIDENT_RESOLVED --reason "demo: cleared for the next scenario" >/dev/null 2>&1
		[ "$n" -gt "$last_id" ] && last_id=$n
	done
done

# What cron runs beside the loop: every incident, its diagnosis, the fix and
# whether it held, indexed so that the next diagnosis starts from them.
if sre remember 2>"$dir/remember.err"; then
	echo "demo: every incident, its diagnosis, its fix and whether it held is remembered;" \
		"the next diagnosis recalls them (sre remember search <words>, sre remember similar <id>)"
else
	echo "demo: sre remember failed:" >&2
	sed 's/^/             | /' "$dir/remember.err" >&2
fi

echo
echo "demo: $passed of $total scenarios detected, diagnosed as expected and resolved"
[ "$passed" -eq "$total" ]
