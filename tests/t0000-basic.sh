#!/bin/sh
test_description='the sre front-end: commands, global options, exit codes'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'sre with no command lists the commands and exits 129' '
	test_expect_code 129 sre 2>err &&
	test_grep "The sre commands:" err &&
	test_grep "^   incident " err
'

test_expect_success 'sre --help and sre help list every command on stdout' '
	sre --help >out1 &&
	sre help >out2 &&
	test_cmp out1 out2 &&
	for c in scout diagnose fix remember escalate chaos run incident config help version; do
		test_grep "^   $c " out1 || return 1
	done
'

test_expect_success 'sre --version and sre version print the version' '
	sre --version >v1 &&
	sre version >v2 &&
	test_cmp v1 v2 &&
	test_grep "^sre version [0-9]" v1
'

test_expect_success 'an unknown command exits 1 and suggests the closest' '
	test_expect_code 1 sre scuot >out 2>err &&
	! test -s out &&
	printf "%s\n" "sre: '\''scuot'\'' is not an sre command. See '\''sre --help'\''." "" \
		"The most similar command is" "	scout" >expect &&
	test_cmp expect err
'

test_expect_success 'a word far from every command gets no suggestion' '
	test_expect_code 1 sre xyzzyplugh 2>err &&
	test_grep ! "most similar" err
'

test_expect_success 'an sre-<name> program on PATH runs for sre <name>' '
	mkdir bin &&
	cat >bin/sre-hello <<-\EOT &&
	#!/bin/sh
	echo "hello from sre-hello: $*"
	EOT
	chmod +x bin/sre-hello &&
	PATH="$PWD/bin:$PATH" sre hello a "b c" >out &&
	echo "hello from sre-hello: a b c" >expect &&
	test_cmp expect out
'

test_expect_success 'a built-in command wins over sre-<name> on PATH' '
	cat >bin/sre-version <<-\EOT &&
	#!/bin/sh
	echo impostor
	EOT
	chmod +x bin/sre-version &&
	PATH="$PWD/bin:$PATH" sre version >out &&
	test_grep ! impostor out
'

test_expect_success 'the external program keeps its exit code' '
	printf "#!/bin/sh\nexit 7\n" >bin/sre-seven &&
	chmod +x bin/sre-seven &&
	PATH="$PWD/bin:$PATH" test_expect_code 7 sre seven
'

test_expect_success '-C runs as if started in another directory' '
	mkdir -p proj/.sre &&
	printf "[core]\n\tactor = from-proj\n" >proj/.sre/config &&
	sre -C proj config core.actor >out &&
	echo from-proj >expect &&
	test_cmp expect out
'

test_expect_success '-C to a missing directory is fatal' '
	test_expect_code 128 sre -C nowhere version 2>err &&
	test_grep "^fatal: cannot change to .nowhere." err
'

test_expect_success '-c sets a value for one run, and the last -c wins' '
	sre -c core.actor=one -c core.actor=two config core.actor >out &&
	echo two >expect &&
	test_cmp expect out
'

test_expect_success '-c with a bad key is fatal and names it' '
	test_expect_code 128 sre -c nodot=1 config core.actor 2>err &&
	test_grep "bad -c option .nodot.: a key needs a section" err
'

test_expect_success '--db puts the store where it says' '
	mkdir custom &&
	sre --db custom/place.db incident open --service s --title t >id &&
	test -f custom/place.db &&
	sre --db=custom/place.db incident list --porcelain >ids &&
	test_cmp id ids
'

test_expect_success 'an unknown global option is a usage error' '
	test_expect_code 129 sre --bogus version 2>err &&
	test_grep "unknown option .--bogus." err
'

test_expect_success 'a global option without its value is a usage error' '
	test_expect_code 129 sre -c 2>err &&
	test_grep "needs a value" err
'

test_expect_success DEV_FULL 'a failed write to stdout is an error, not silence' '
	test_expect_code 128 sre help >/dev/full 2>err &&
	test_grep "write failure on standard output" err
'

test_expect_success 'sre --list-cmds lists the command names for completion' '
	sre --list-cmds >out &&
	test_grep -x incident out &&
	test_grep -x config out &&
	test_line_count = 13 out
'

test_expect_success 'an interrupted sre exits 130 and writes nothing' '
	sre incident open --service s --title waiting >id &&
	mkfifo fifo &&
	{ sleep 3 >fifo & } &&
	# A background job starts with SIGINT ignored: restore the default,
	# as a terminal would have it.
	{ perl -e "\$SIG{INT} = q(DEFAULT); open my \$f, q(>), q(pid); print \$f \$\$; close \$f; exec @ARGV" \
		sre incident comment "$(cat id)" - <fifo & } &&
	job=$! &&
	while ! test -s pid; do sleep 0.1; done &&
	sleep 0.3 &&
	kill -INT "$(cat pid)" &&
	{ wait $job; echo $? >code; } &&
	echo 130 >expect &&
	test_cmp expect code &&
	sre incident show --json "$(cat id)" >show &&
	test_grep ! "\"comment\"" show
'

test_done
