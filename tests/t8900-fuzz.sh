#!/bin/sh
test_description='make fuzz: every libFuzzer target builds and runs briefly from its seeds'
. "$(dirname "$0")/test-lib.sh"

SRC=$SRE_BUILD_DIR
# A nested make of our own, not a job of whatever make runs the tests.
unset MAKEFLAGS MFLAGS MAKELEVEL
# The targets' scratch files (kubeconfig, bundles) stay in here.
TMPDIR=$TRASH_DIRECTORY; export TMPDIR

# clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev).
if ! command -v clang >/dev/null 2>&1; then
	skip_all "no clang to build the fuzz targets"
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >probe.c
if ! clang -fsanitize=fuzzer,address,undefined -o probe probe.c >probe.log 2>&1; then
	skip_all "clang cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing?)"
fi

targets=$(cd "$SRC/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')

test_expect_success 'every target has seeds' '
	for t in $targets; do
		ls "$SRC/fuzz/corpus/$t" >seeds &&
		test -s seeds || { echo "no seeds for $t"; return 1; }
	done
'

test_expect_success 'the targets build' '
	if ! make -C "$SRC" -s -j2 fuzz-build >build.log 2>&1; then
		cat build.log
		false
	fi &&
	for t in $targets; do
		test -x "$SRC/build/fuzz/fuzz-$t" || { echo "no fuzz-$t"; return 1; }
	done
'

test_expect_success 'each target runs 2 s from its seeds without a crash' '
	if ! FUZZ_SECONDS=2 FUZZ_WORK="$TRASH_DIRECTORY/work" \
		"$SRC/fuzz/run.sh" "$SRC/build/fuzz" $targets >summary 2>err; then
		cat summary err
		cat work/logs/*.log | grep -A30 ERROR
		false
	fi &&
	cat summary &&
	for t in $targets; do
		grep "^$t  *[1-9][0-9]* runs  *[1-9][0-9]* exec/s  ok$" summary ||
			{ echo "no runs counted for $t"; return 1; }
	done
'

# The runner itself, with stand-in targets: one that crashes must fail it.
test_expect_success 'a crashing target fails the run and is named' '
	mkdir fake &&
	printf "#!/bin/sh\necho stat::number_of_executed_units: 10\necho stat::average_exec_per_sec: 5\n" \
		>fake/fuzz-calm &&
	printf "#!/bin/sh\necho ==1==ERROR: AddressSanitizer: heap-buffer-overflow\nexit 1\n" \
		>fake/fuzz-boom &&
	chmod +x fake/fuzz-calm fake/fuzz-boom &&
	test_expect_code 1 env FUZZ_SECONDS=1 FUZZ_WORK="$TRASH_DIRECTORY/fw" \
		"$SRC/fuzz/run.sh" fake calm boom >out 2>err &&
	grep "^calm  *10 runs  *5 exec/s  ok$" out &&
	grep "^boom .*CRASHED" out &&
	grep "crashed: boom" err &&
	env FUZZ_SECONDS=1 FUZZ_WORK="$TRASH_DIRECTORY/fw" "$SRC/fuzz/run.sh" fake calm >out
'

test_done
