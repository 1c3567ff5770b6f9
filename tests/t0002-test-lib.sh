#!/bin/sh
test_description='test-lib.sh itself: a test that cannot fail is caught'
. "$(dirname "$0")/test-lib.sh"

# run_sub NAME BODY: a script of its own, sourcing this test-lib, made of
# BODY and test_done; its TAP in NAME.out, its exit status in NAME.code.
# It runs in a directory of its own, so its scratch is NAME/trash.NAME.
run_sub() {
	mkdir -p "$1" &&
	{
		printf '#!/bin/sh\n. "%s/test-lib.sh"\n' "$TEST_DIRECTORY" &&
		printf '%s\n' "$2" &&
		printf 'test_done\n'
	} >"$1/$1.sh" &&
	{ SRE_BUILD_DIR="$SRE_BUILD_DIR" sh "$1/$1.sh" >"$1.out" 2>&1; echo $? >"$1.code"; }
}

test_expect_success 'a passing body is ok, a failing one is not ok and fails the script' '
	run_sub pass "test_expect_success \"yes\" \"true && true\"" &&
	test_grep -x "ok 1 - yes" pass.out &&
	echo 0 >expect && test_cmp expect pass.code &&
	run_sub fail "test_expect_success \"no\" \"true && false\"" &&
	test_grep -x "not ok 1 - no" fail.out &&
	echo 1 >expect && test_cmp expect fail.code
'

test_expect_success 'a body that drops a && fails, though its last command passes' '
	run_sub chain "test_expect_success \"broken\" \"
		false
		true
	\"" &&
	test_grep -x "not ok 1 - broken" chain.out &&
	test_grep "broken &&-chain or run-away here-doc" chain.out &&
	echo 1 >expect && test_cmp expect chain.code
'

test_expect_success 'a here-doc that never ends fails' '
	run_sub heredoc "test_expect_success \"runaway\" \"
		cat >x <<-EOF &&
		text
	\"" &&
	test_grep -x "not ok 1 - runaway" heredoc.out &&
	test_grep "broken &&-chain or run-away here-doc" heredoc.out
'

test_expect_success 'with SRE_TEST_CHAIN_LINT=0 the chain is not checked' '
	SRE_TEST_CHAIN_LINT=0 && export SRE_TEST_CHAIN_LINT &&
	run_sub nolint "test_expect_success \"broken\" \"
		false
		true
	\"" &&
	test_grep -x "ok 1 - broken" nolint.out
'

test_expect_success 'test_when_finished runs last first, after a failure too, and its failure fails' '
	run_sub finished "test_expect_success \"cleans\" \"
		test_when_finished \\\"echo first >>log\\\" &&
		test_when_finished \\\"echo second >>log\\\" &&
		false
	\"
	test_expect_success \"order\" \"printf \\\"second\\\\nfirst\\\\n\\\" >expect && test_cmp expect log\"
	test_expect_success \"bad clean-up\" \"test_when_finished false && true\"" &&
	test_grep -x "not ok 1 - cleans" finished.out &&
	test_grep -x "ok 2 - order" finished.out &&
	test_grep -x "not ok 3 - bad clean-up" finished.out
'

test_expect_success 'test_expect_failure is a TODO either way and does not fail the script' '
	run_sub todo "test_expect_failure \"known\" \"false\"
	test_expect_failure \"fixed\" \"true\"" &&
	test_grep -x "not ok 1 - known # TODO known breakage" todo.out &&
	test_grep -x "ok 2 - fixed # TODO known breakage vanished" todo.out &&
	echo 0 >expect && test_cmp expect todo.code
'

test_expect_success 'skips say they skipped, and why' '
	run_sub skip "test_skip \"needs a moon\" \"no moon here\"
	test_set_prereq HAVE
	test_expect_success HAVE,!HAVE \"contradiction\" \"true\"
	test_expect_success HAVE \"runs\" \"true\"" &&
	test_grep -x "ok 1 # skip needs a moon (no moon here)" skip.out &&
	test_grep -x "ok 2 # skip contradiction (missing !HAVE)" skip.out &&
	test_grep -x "ok 3 - runs" skip.out &&
	run_sub skipall "skip_all \"nothing to do\"" &&
	test_grep -x "1..0 # SKIP nothing to do" skipall.out &&
	echo 0 >expect && test_cmp expect skipall.code
'

test_expect_success 'an unknown prerequisite is a bug in the script, not a skip' '
	run_sub typo "test_expect_success MNA \"typo\" \"true\"" &&
	test_grep "^Bail out! .*unknown prerequisite MNA" typo.out &&
	echo 1 >expect && test_cmp expect typo.code
'

test_expect_success 'a script that ends without test_done fails' '
	run_sub early "test_expect_success \"one\" \"true\"
	exit 0" &&
	test_grep "FATAL: unexpected exit" early.out &&
	echo 1 >expect && test_cmp expect early.code
'

test_expect_success 'test_grep ! fails on a file it cannot read' '
	echo text >here &&
	test_grep ! secret here &&
	test_must_fail test_grep ! secret nowhere 2>err &&
	test_grep "nowhere does not exist" err &&
	test_must_fail test_grep ! text here 2>err &&
	test_grep "found" err &&
	echo text | test_grep tex &&
	echo text | test_must_fail test_grep nothing 2>err
'

test_done
