#!/bin/sh
test_description='trust: a cloned repository'"'"'s .sre/config under safe.directory; nothing sre runs or reads hangs'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1; then
	skip_all "no python3 for the fake GitHub, or no git"
fi

TOKEN=ghp_trust0123456789secret
GLOBAL="$XDG_CONFIG_HOME/sre/config"

# Is process $1 gone (or a zombie nobody reaped yet)? Waits up to 3 s.
process_gone() {
	i=0
	while [ $i -lt 30 ]; do
		if ! test -e "/proc/$1" ||
		   sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | grep -q "^[ZX]"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "process $1 is still there" >&2
	return 1
}

# The user's own configuration: the real tracker and how to get its token.
# test-lib.sh trusts the whole scratch directory; this script starts from a
# global file that trusts nothing.
write_global() {
	cat >"$GLOBAL" <<-EOT
	[tracker]
		kind = github
	[github]
		api = $FAKE_URL
		repo = acme/shop
		token-command = printf %s $TOKEN
	[http]
		retries = 0
	EOT
}

start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }

test_expect_success 'setup: a repository with a hostile .sre/config, cloned with git' '
	write_global &&
	git init -q upstream &&
	mkdir -p upstream/.sre &&
	cat >upstream/.sre/config <<-EOT &&
	[github]
		api = http://127.0.0.1:9/steal
		token-command = ./.sre/token.sh
	[core]
		actor = from-the-repo
	EOT
	cat >upstream/.sre/token.sh <<-EOT &&
	#!/bin/sh
	echo ran >"$TRASH_DIRECTORY/marker"
	echo stolen
	EOT
	chmod +x upstream/.sre/token.sh &&
	git -C upstream add .sre/config .sre/token.sh &&
	git -C upstream -c user.name=a -c user.email=a@example.com commit -q -m config &&
	git clone -q upstream clone &&
	test -f clone/.sre/config
'

test_expect_success 'in the clone, its token-command does not run and github.api does not move' '
	(cd clone && sre incident open -s checkout -t "checkout returns 503" >../id 2>../err) &&
	test ! -e marker &&
	test "$(fake_count POST "^/repos/acme/shop/issues$")" = 1 &&
	dir=$(cd clone && pwd -P) &&
	test_grep "^warning: ignoring github.token-command from $dir/.sre/config: add $dir to safe.directory in ~/.config/sre/config$" err &&
	test_grep "^warning: ignoring github.api from $dir/.sre/config: add $dir to safe.directory" err &&
	test "$(grep -c "ignoring github.api" err)" = 1 &&
	test_grep ! stolen err
'

test_expect_success 'a harmless key of the clone still counts' '
	(cd clone && sre config core.actor >../out 2>/dev/null) &&
	echo from-the-repo >expect &&
	test_cmp expect out
'

test_expect_success 'the lookup of a protected key sees the user'"'"'s value, and -C finds the clone too' '
	sre -C clone config github.api >out 2>err &&
	echo "$FAKE_URL" >expect &&
	test_cmp expect out &&
	test_grep "ignoring github.api" err
'

test_expect_success '--list --show-origin shows what was set aside' '
	(cd clone && sre config --list --show-origin >../out 2>/dev/null) &&
	test_grep "^ignored	file:.sre/config:2	github.api=http://127.0.0.1:9/steal$" out &&
	test_grep "^ignored	file:.sre/config:3	github.token-command=" out &&
	test_grep "^local	file:.sre/config:5	core.actor=from-the-repo$" out &&
	test_grep ! "^local.*github" out
'

test_expect_success 'safe.directory in .sre/config itself is ignored' '
	printf "[safe]\n\tdirectory = *\n" >>clone/.sre/config &&
	(cd clone && sre config github.api >../out 2>../err) &&
	echo "$FAKE_URL" >expect &&
	test_cmp expect out &&
	test_grep "ignoring safe.directory from .*/clone/.sre/config: a directory cannot trust itself" err &&
	test_grep "ignoring github.api" err &&
	(cd clone && git checkout -q .sre/config)
'

test_expect_success 'with the clone in safe.directory (global), its keys are honoured' '
	write_global &&
	sre config --global --add safe.directory /somewhere/else &&
	sre config --global --add safe.directory "$(cd clone && pwd -P)" &&
	test "$(grep -c "directory =" "$GLOBAL")" = 2 &&
	(cd clone && sre config github.api >../out 2>../err) &&
	echo http://127.0.0.1:9/steal >expect &&
	test_cmp expect out &&
	test_grep ! warning err &&
	(cd clone && sre incident open -s cart -t "cart is slow" >/dev/null 2>../err) &&
	cat err &&
	test -e marker &&
	rm -f marker
'

test_expect_success 'a parent directory in safe.directory trusts what is under it' '
	write_global &&
	printf "[safe]\n\tdirectory = %s/\n" "$(pwd -P)" >>"$GLOBAL" &&
	(cd clone && sre config github.api >../out 2>../err) &&
	echo http://127.0.0.1:9/steal >expect &&
	test_cmp expect out &&
	test_grep ! warning err
'

test_expect_success 'a sibling whose name merely starts the same is not trusted' '
	write_global &&
	printf "[safe]\n\tdirectory = %s/clo\n" "$(pwd -P)" >>"$GLOBAL" &&
	(cd clone && sre config github.api >../out 2>../err) &&
	echo "$FAKE_URL" >expect &&
	test_cmp expect out &&
	test_grep "ignoring github.api" err
'

test_expect_success 'safe.directory = * trusts every directory; an empty value clears the list' '
	write_global &&
	printf "[safe]\n\tdirectory = *\n" >>"$GLOBAL" &&
	(cd clone && sre config github.api >../out 2>../err) &&
	echo http://127.0.0.1:9/steal >expect &&
	test_cmp expect out &&
	test_grep ! warning err &&
	printf "\tdirectory =\n" >>"$GLOBAL" &&
	(cd clone && sre config github.api >../out 2>../err) &&
	echo "$FAKE_URL" >expect &&
	test_cmp expect out &&
	test_grep "ignoring github.api" err
'

test_expect_success '-c and SRE_CONFIG are the user'"'"'s own words: trusted' '
	write_global &&
	(cd clone && sre -c "github.token-command=sh -c \"echo c >$TRASH_DIRECTORY/marker-c; printf %s $TOKEN\"" \
		incident open -s search -t "search is down" >/dev/null 2>../err) &&
	test -e marker-c &&
	test ! -e marker &&
	printf "[github]\n\tapi = http://127.0.0.1:9/from-env\n" >env.cfg &&
	(cd clone && SRE_CONFIG=../env.cfg sre config github.api >../out 2>/dev/null) &&
	echo http://127.0.0.1:9/from-env >expect &&
	test_cmp expect out &&
	(cd clone && sre -c safe.directory=* config github.api >../out 2>../err) &&
	echo http://127.0.0.1:9/steal >expect &&
	test_cmp expect out
'

test_expect_success 'writing a protected key to an untrusted .sre/config says it will be ignored' '
	write_global &&
	mkdir -p fresh/.sre &&
	(cd fresh && sre config core.repo /srv/infra 2>../err) &&
	test_grep "core.repo is read from .sre/config only in a directory listed in safe.directory" err &&
	test_grep "sre config --global --add safe.directory $(cd fresh && pwd -P)" err &&
	(cd fresh && sre config core.actor me 2>../err) &&
	test_grep ! "core.actor is read" err
'

# ---- nothing hangs ----

test_expect_success 'a token-command that never exits is cut off, with what it started' '
	write_global &&
	cat >hang.sh <<-EOT &&
	#!/bin/sh
	sleep 1000 &
	echo \$! >"$TRASH_DIRECTORY/grandchild.pid"
	echo \$\$ >"$TRASH_DIRECTORY/child.pid"
	exec sleep 1000
	EOT
	chmod +x hang.sh &&
	start=$(date +%s) &&
	{ timeout 20 sre -c core.command-timeout=1 -c "github.token-command=$PWD/hang.sh" \
		incident open -s pay -t "payments fail" >/dev/null 2>err; rc=$?; } &&
	test $rc != 124 &&
	test $(( $(date +%s) - start )) -lt 10 &&
	test_grep "github.token-command (.$PWD/hang.sh.) was cut off after 1 s and killed" err &&
	test -s child.pid && test -s grandchild.pid &&
	process_gone "$(cat child.pid)" &&
	process_gone "$(cat grandchild.pid)"
'

test_expect_success 'a token-command that prints without end is stopped' '
	write_global &&
	{ timeout 20 sre -c "github.token-command=yes" \
		incident open -s pay2 -t "payments fail" >/dev/null 2>err; rc=$?; } &&
	test $rc != 124 &&
	test_grep "github.token-command (.yes.) wrote more than 65536 bytes and was killed" err
'

stop_fake

test_expect_success 'a start command that hangs is cut off at the service timeout' '
	rm -f "$GLOBAL" &&
	mkdir -p svc/.sre svc/run &&
	cat >svc/start.sh <<-EOT &&
	#!/bin/sh
	sleep 1000 >/dev/null 2>&1 &
	echo \$! >"$TRASH_DIRECTORY/svc/run/daemon.pid"
	echo \$\$ >"$TRASH_DIRECTORY/svc/run/start.pid"
	exec sleep 1000
	EOT
	chmod +x svc/start.sh &&
	cat >svc/.sre/config <<-EOT &&
	[service "stuck"]
		runtime = process
		pidfile = $TRASH_DIRECTORY/svc/run/stuck.pid
		start = $TRASH_DIRECTORY/svc/start.sh
		timeout = 1s
	EOT
	printf "[safe]\n\tdirectory = %s\n" "$TRASH_DIRECTORY" >"$GLOBAL" &&
	(
		cd svc &&
		sre scout >/dev/null 2>&1 &&
		id=$(sre incident list --service stuck --porcelain | cut -f1) &&
		test -n "$id" &&
		sre diagnose "$id" >/dev/null 2>&1 &&
		start=$(date +%s) &&
		{ timeout 30 sre fix --yes "$id" >../out 2>../err; rc=$?; } &&
		test $rc != 124 && test $rc != 0 &&
		test $(( $(date +%s) - start )) -lt 15
	) &&
	test_grep "service.stuck.start failed: .*start.sh. was cut off after 1 s (service.stuck.timeout) and killed" out err &&
	process_gone "$(cat svc/run/start.pid)" &&
	process_gone "$(cat svc/run/daemon.pid)"
'

test_expect_success 'a FIFO as a log path is refused without hanging' '
	mkfifo log.fifo &&
	cat >svc/.sre/config <<-EOT &&
	[service "fifo"]
		runtime = process
		pidfile = $TRASH_DIRECTORY/svc/run/none.pid
		log = $TRASH_DIRECTORY/log.fifo
	[diagnose]
		kernel-log = $TRASH_DIRECTORY/log.fifo
	EOT
	{ (cd svc && timeout 20 sre diagnose --problem "fifo is down" --service fifo \
		--json >../out 2>../err); rc=$?; } &&
	test $rc != 124 &&
	test_grep "host: service.fifo.log $TRASH_DIRECTORY/log.fifo is a FIFO, not a regular file: refused" out err &&
	test_grep "host: diagnose.kernel-log $TRASH_DIRECTORY/log.fifo is a FIFO, not a regular file: refused" out err
'

test_expect_success 'a FIFO in an evidence bundle is refused without hanging' '
	mkdir -p bundle &&
	cp -R "$TEST_DIRECTORY/data/diagnose/healthy/." bundle/ &&
	rm bundle/sources.json &&
	mkfifo bundle/sources.json &&
	{ timeout 20 sre diagnose --evidence bundle >out 2>err; rc=$?; } &&
	test $rc != 124 && test $rc != 0 &&
	test_grep "bundle/sources.json: not a regular file" err
'

test_expect_success 'a FIFO included as a config file is refused without hanging' '
	printf "[include]\n\tpath = %s/log.fifo\n" "$TRASH_DIRECTORY" >"$GLOBAL" &&
	{ timeout 20 sre config core.actor >out 2>err; rc=$?; } &&
	test $rc = 128 &&
	test_grep "cannot read $TRASH_DIRECTORY/log.fifo (included from $GLOBAL line 2): not a regular file" err
'

test_done
