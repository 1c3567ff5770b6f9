# lib-prometheus.sh: a real Prometheus and a real Alertmanager for the
# tests, as users run them (Debian 12's prometheus 2.42 and
# prometheus-alertmanager 0.25, which `make deps` installs).
#
# Each is started once per test script, on a free loopback port, with its
# data in a scratch directory under the script's trash directory and no
# listener but its web port (Alertmanager's cluster port is off). A
# script that calls start_prometheus or start_alertmanager before its
# first test is skipped, saying why, when the binary is missing or does
# not answer /-/ready within 30 s; both are stopped when the script
# exits, whatever happened (an EXIT trap chained to test-lib.sh's own).
#
#   free_port                     prints a loopback port nobody listens on
#   start_prometheus [RULEFILE]   sets PROM_URL; scrapes prometheus.yml's
#                                 targets (prom_scrape), every 1 s, and
#                                 evaluates RULEFILE every 1 s
#   prom_scrape JOB HOST:PORT     must come before start_prometheus
#   prom_wait_query QUERY PYEXPR [SECONDS]
#                                 polls an instant query until PYEXPR holds
#                                 of `v` (the first value, a float, or None
#                                 when the answer is empty); 1 on timeout
#   start_alertmanager            sets AM_URL
#   stop_engines                  stops both (the EXIT trap calls it)

PROM_BIN=${PROM_BIN:-/usr/bin/prometheus}
AM_BIN=${AM_BIN:-/usr/bin/prometheus-alertmanager}
PROM_DIR="$TRASH_DIRECTORY/prometheus"
AM_DIR="$TRASH_DIRECTORY/alertmanager"
PROM_PID=
AM_PID=
prom_targets_=

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

stop_engines() {
	for pid_ in $PROM_PID $AM_PID; do
		kill "$pid_" 2>/dev/null
		wait "$pid_" 2>/dev/null
	done
	PROM_PID= AM_PID=
	return 0
}

# test-lib.sh's EXIT trap judges how the script ended: keep it, after ours.
lib_prometheus_exit_() {
	code_=$?
	stop_engines
	(exit $code_)
	test_at_exit_
}
trap lib_prometheus_exit_ EXIT

# engine_ready_ URL PID LOG NAME: poll URL/-/ready for up to 30 s; 0 when
# it answers 200, 1 (the log shown) when the engine died or never did.
engine_ready_() {
	python3 - "$1/-/ready" "$2" <<-\EOT || { sed 's/^/# /' "$3"; return 1; }
	import os, sys, time, urllib.request
	deadline = time.monotonic() + 30
	while time.monotonic() < deadline:
	    try:
	        os.kill(int(sys.argv[2]), 0)
	    except OSError:
	        sys.exit(1)
	    try:
	        if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200:
	            sys.exit(0)
	    except Exception:
	        pass
	    time.sleep(0.1)
	sys.exit(1)
	EOT
}

prom_scrape() {
	prom_targets_="$prom_targets_
  - job_name: $1
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['$2']"
}

start_prometheus() {
	test -x "$PROM_BIN" || skip_all "no prometheus ($PROM_BIN): make deps installs it"
	command -v python3 >/dev/null 2>&1 || skip_all "no python3 to wait for prometheus"
	mkdir -p "$PROM_DIR/data" || return 1
	{
		printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
		if [ -n "${1:-}" ]; then
			printf 'rule_files:\n  - %s\n' "$1"
		fi
		printf 'scrape_configs:%s\n' "${prom_targets_:- []}"
	} >"$PROM_DIR/prometheus.yml" || return 1
	port_=$(free_port) || return 1
	"$PROM_BIN" --config.file="$PROM_DIR/prometheus.yml" \
		--storage.tsdb.path="$PROM_DIR/data" \
		--web.listen-address="127.0.0.1:$port_" \
		--log.level=warn >"$PROM_DIR/log" 2>&1 </dev/null &
	PROM_PID=$!
	PROM_URL="http://127.0.0.1:$port_"
	engine_ready_ "$PROM_URL" "$PROM_PID" "$PROM_DIR/log" ||
		skip_all "prometheus did not come up on $PROM_URL within 30 s"
}

start_alertmanager() {
	test -x "$AM_BIN" || skip_all "no alertmanager ($AM_BIN): make deps installs it"
	command -v python3 >/dev/null 2>&1 || skip_all "no python3 to wait for alertmanager"
	mkdir -p "$AM_DIR/data" || return 1
	cat >"$AM_DIR/alertmanager.yml" <<-\EOT || return 1
	route:
	  receiver: nobody
	  group_wait: 1s
	  group_interval: 1s
	receivers:
	  - name: nobody
	EOT
	port_=$(free_port) || return 1
	"$AM_BIN" --config.file="$AM_DIR/alertmanager.yml" \
		--storage.path="$AM_DIR/data" \
		--web.listen-address="127.0.0.1:$port_" \
		--cluster.listen-address= \
		--log.level=warn >"$AM_DIR/log" 2>&1 </dev/null &
	AM_PID=$!
	AM_URL="http://127.0.0.1:$port_"
	engine_ready_ "$AM_URL" "$AM_PID" "$AM_DIR/log" ||
		skip_all "alertmanager did not come up on $AM_URL within 30 s"
}

prom_wait_query() {
	python3 - "$PROM_URL" "$1" "$2" "${3:-30}" <<-\EOT
	import json, sys, time, urllib.parse, urllib.request
	url, query, cond, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
	deadline = time.monotonic() + limit
	v = None
	while time.monotonic() < deadline:
	    q = urllib.parse.urlencode({"query": query})
	    try:
	        r = json.load(urllib.request.urlopen(url + "/api/v1/query?" + q, timeout=5))
	        res = r["data"]["result"]
	        v = float(res[0]["value"][1]) if res else None
	        if eval(cond):
	            sys.exit(0)
	    except Exception as e:
	        v = "error: %s" % e
	    time.sleep(0.2)
	print("prom_wait_query: %s: %s is still %r after %gs" % (query, cond, v, limit), file=sys.stderr)
	sys.exit(1)
	EOT
}
