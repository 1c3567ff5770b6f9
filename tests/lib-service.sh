# lib-service.sh: services of our own for the tests of sre fix, run as
# processes (runtime = process) in the scratch directory.
#
#   make_service <name> [life=<s>] [start-delay=<s>] [stop-delay=<s>] [fail]
#       bin/start-<name> runs `sleep <life>` (300) in the background after
#       <start-delay> (0) seconds and writes its pid to run/<name>.pid, or
#       with fail says it cannot bind and exits 1; bin/stop-<name> waits
#       <stop-delay> (0) seconds and kills it. Each appends a line to
#       run/<name>.ops. The [service "<name>"] section goes to .sre/config.
#   starts <name>        how many times it was started
#   service_alive <name> whether it runs (a zombie does not)
#   kill_service <name>  kill it and wait (up to 5 s) until it is gone
#   incident_for <name>  kill it, open its incident the way cron would
#                        (sre scout) and diagnose it; prints the id
#   wait_for_line <file> <pattern>          up to 30 s for a line matching it
#   wait_for_count <file> <pattern> <n>     up to 30 s for n such lines
#                        (what a background sre run --watch has said)

make_service() {
	name=$1
	shift
	life=300 start_delay=0 stop_delay=0 fail=
	for opt
	do
		case $opt in
		life=*) life=${opt#life=} ;;
		start-delay=*) start_delay=${opt#start-delay=} ;;
		stop-delay=*) stop_delay=${opt#stop-delay=} ;;
		fail) fail=1 ;;
		*) BUG "make_service: unknown option $opt" ;;
		esac
	done
	mkdir -p bin run &&
	cat >bin/start-$name <<-EOT &&
	#!/bin/sh
	echo start >>"$PWD/run/$name.ops"
	${fail:+echo "cannot bind 0.0.0.0:8080: address in use" >&2; exit 1}
	sleep $start_delay
	sleep $life >/dev/null 2>&1 </dev/null &
	echo \$! >"$PWD/run/$name.pid"
	EOT
	cat >bin/stop-$name <<-EOT &&
	#!/bin/sh
	echo stop >>"$PWD/run/$name.ops"
	sleep $stop_delay
	kill "\$(cat "$PWD/run/$name.pid")" 2>/dev/null
	exit 0
	EOT
	chmod +x bin/start-$name bin/stop-$name &&
	cat >>.sre/config <<-EOT
	[service "$name"]
		runtime = process
		pidfile = $PWD/run/$name.pid
		start = $PWD/bin/start-$name
		stop = $PWD/bin/stop-$name
	EOT
}

starts() {
	# grep -c says 0 and fails when nothing matches; nothing when there is no file.
	n=$(grep -c start "run/$1.ops" 2>/dev/null)
	echo "${n:-0}"
}

service_alive() {
	pid=$(cat "run/$1.pid" 2>/dev/null) &&
	test -e "/proc/$pid/stat" &&
	! grep -q "^[0-9]* (.*) Z " "/proc/$pid/stat"
}

kill_service() {
	kill "$(cat "run/$1.pid")" 2>/dev/null
	i=0
	while service_alive "$1" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	! service_alive "$1"
}

incident_for() {
	kill_service "$1" &&
	sre scout >/dev/null &&
	sre incident list --json >open.json &&
	id=$(python3 -c 'import json, sys
print(max(i["id"] for i in json.load(open("open.json")) if i["service"] == sys.argv[1]))' "$1") &&
	sre diagnose "$id" >/dev/null &&
	echo "$id"
}

# Wait up to 30 s for a line matching $2 in file $1.
wait_for_line() {
	i=0
	while ! grep -q -e "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "no line '$2' in $1 after 30 s:" >&2
			cat "$1" >&2
			return 1
		fi
		sleep 0.1
	done
}

# Wait up to 30 s for $3 lines matching $2 in file $1.
wait_for_count() {
	i=0
	while n=$(grep -c -e "$2" "$1" 2>/dev/null); test "${n:-0}" -lt "$3"; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "not $3 lines '$2' in $1 after 30 s:" >&2
			cat "$1" >&2
			return 1
		fi
		sleep 0.1
	done
}
