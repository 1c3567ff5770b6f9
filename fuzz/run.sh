#!/bin/sh
# fuzz/run.sh: run libFuzzer targets one after the other, each for
# $FUZZ_SECONDS (default 30) from its seeds in fuzz/corpus/<name> (and
# fuzz/<name>.dict when there is one), then print executions and exec/s
# per target. Exit 1 when any target crashed (its log and the input that
# did it stay in <work>/logs and <work>/crashes), else 0.
#
#   fuzz/run.sh build/fuzz config link ...
#
# What a run finds that is new is kept in <work>/corpus/<name>, so a
# later run goes on from there; the seeds are never written to. <work>
# is $FUZZ_WORK, default the build directory.

set -u
build=$1
shift
seconds=${FUZZ_SECONDS:-30}
work=${FUZZ_WORK:-$build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/logs" "$work/crashes"
failed=
summary=

for name in "$@"; do
	# Headers and times are short; JSON answers and bundles are not.
	case $name in
	link|retry-after|timeutil) max_len=512 ;;
	docker-frames|record|config|metrics|kubeconfig|alertmanager|redact) max_len=8192 ;;
	*) max_len=65536 ;;
	esac
	dict=
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	mkdir -p "$work/corpus/$name"
	log=$work/logs/$name.log
	# -close_fd_mask=3: what lib/ prints of each bad input is noise here;
	# libFuzzer and the sanitizers still report on their own descriptor.
	"$build/fuzz-$name" -max_total_time="$seconds" -max_len=$max_len -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 $dict \
		-artifact_prefix="$work/crashes/$name-" \
		"$work/corpus/$name" "$here/corpus/$name" </dev/null >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		failed="$failed $name"
		status="CRASHED (rc $rc; see $log)"
	else
		status=ok
	fi
	summary="$summary$(printf '%-14s %10s runs %8s exec/s  %s' "$name" "${runs:-?}" \
		"${rate:-?}" "$status")
"
done

printf 'fuzz: %ss per target\n%s' "$seconds" "$summary"
if [ -n "$failed" ]; then
	echo "fuzz: crashed:$failed" >&2
	exit 1
fi
