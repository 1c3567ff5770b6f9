#!/bin/sh
test_description='sre config: the git-config format, levels, editing and secrets'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'writing where there is no .sre/ asks for --local or --global' '
	test_expect_code 128 sre config core.actor alice 2>err &&
	test_grep "^fatal: $PWD has no .sre/ to hold a local configuration: use --global to set core.actor for every directory, or --local to create .sre/config here$" err &&
	test_expect_code 128 sre config set core.actor alice 2>err &&
	test_grep "^fatal: .* has no .sre/" err &&
	test_expect_code 128 sre config --unset core.actor 2>err &&
	test_grep "^fatal: .* has no .sre/" err &&
	! test -e .sre
'

test_expect_success 'setting a key with --local writes .sre/config in the current directory' '
	sre config --local core.actor alice &&
	printf "[core]\n\tactor = alice\n" >expect &&
	test_cmp expect .sre/config &&
	sre config core.actor >out &&
	echo alice >expect &&
	test_cmp expect out
'

test_expect_success 'with a .sre/ here, a write needs no --local' '
	sre config core.busy-timeout 5s &&
	test_grep "busy-timeout = 5s" .sre/config &&
	sre config --unset core.busy-timeout &&
	test_grep ! "busy-timeout" .sre/config &&
	mkdir bare && mkdir bare/.sre &&
	(cd bare && sre config core.actor bob) &&
	printf "[core]\n\tactor = bob\n" >expect &&
	test_cmp expect bare/.sre/config
'

test_expect_success 'a key that is not set exits 1 and prints nothing' '
	test_expect_code 1 sre config core.db >out 2>err &&
	! test -s out && ! test -s err
'

test_expect_success 'an invalid key is fatal and says why' '
	test_expect_code 128 sre config nodot 2>err &&
	test_grep "invalid key .nodot.: a key needs a section" err &&
	test_expect_code 128 sre config core.9lives x 2>err &&
	test_grep "must start with a letter" err
'

test_expect_success '--global writes the file under XDG_CONFIG_HOME' '
	sre config --global core.actor from-global &&
	test_grep "actor = from-global" "$XDG_CONFIG_HOME/sre/config" &&
	sre config --global core.actor >out &&
	echo from-global >expect &&
	test_cmp expect out
'

test_expect_success 'later levels win: global < local < SRE_CONFIG < -c' '
	sre config core.actor >out && echo alice >expect && test_cmp expect out &&
	printf "[core]\n\tactor = from-env\n" >env.cfg &&
	SRE_CONFIG=env.cfg sre config core.actor >out &&
	echo from-env >expect && test_cmp expect out &&
	SRE_CONFIG=env.cfg sre -c core.actor=from-c config core.actor >out &&
	echo from-c >expect && test_cmp expect out
'

test_expect_success 'SRE_CONFIG naming a missing file is fatal' '
	SRE_CONFIG=missing.cfg test_expect_code 128 sre config core.actor 2>err &&
	test_grep "missing.cfg" err
'

test_expect_success 'editing keeps comments, blank lines, order and other sections' '
	mkdir edit && cd edit && mkdir .sre &&
	cat >.sre/config <<-\EOT &&
	# team settings
	[core]
		actor = bob   ; the on-call bot

	[color]
		ui = never
	# end
	EOT
	sre config core.actor carol &&
	sre config color.ui auto &&
	sre config core.db /var/lib/sre.db &&
	sre config check.web.url http://127.0.0.1:1/health &&
	printf "%s\n" "# team settings" "[core]" "	actor = carol" "	db = /var/lib/sre.db" "" \
		"[color]" "	ui = auto" "# end" "[check \"web\"]" \
		"	url = http://127.0.0.1:1/health" >expect &&
	test_cmp expect .sre/config
'

test_expect_success 'the file format: quotes, escapes, continuation, comments, case' '
	mkdir fmt && cd fmt && mkdir .sre &&
	cat >.sre/config <<-\EOT &&
	[Core]
		Actor = "  spaced  " # comment
	[check "Web"]
		title = a \"quoted\" word; then a comment
		long = one \
	two
		flag
	EOT
	sre config core.actor >out && echo "  spaced  " >expect && test_cmp expect out &&
	sre config check.Web.title >out && echo "a \"quoted\" word" >expect && test_cmp expect out &&
	sre config check.Web.long >out && echo "one two" >expect && test_cmp expect out &&
	sre config --type bool check.Web.flag >out && echo true >expect && test_cmp expect out &&
	test_expect_code 1 sre config check.web.title
'

test_expect_success 'a malformed file is fatal and names the file and line' '
	mkdir bad && cd bad && mkdir .sre &&
	printf "[core]\n\tactor = ok\n\tdb = \"unterminated\n" >.sre/config &&
	test_expect_code 128 sre config core.actor 2>err &&
	test_grep "bad config line 3 in .sre/config: unterminated quote" err &&
	printf "[core\nx = 1\n" >.sre/config &&
	test_expect_code 128 sre incident list 2>err &&
	test_grep "bad config line 1 in .sre/config" err &&
	! test -e "$SRE_DB"
'

test_expect_success 'a bad typed value is fatal where it is used, naming file and line' '
	mkdir badval && cd badval && mkdir .sre &&
	printf "[core]\n\tbusy-timeout = 5 parsecs\n" >.sre/config &&
	test_expect_code 128 sre incident list 2>err &&
	test_grep "bad duration value .5 parsecs. for core.busy-timeout in .sre/config line 2" err
'

test_expect_success 'writing a known key checks its type' '
	test_expect_code 128 sre config color.ui sometimes 2>err &&
	test_grep "color.ui takes one of auto|always|never" err &&
	test_expect_code 128 sre config core.busy-timeout soon 2>err &&
	test_grep "takes a duration" err &&
	test_grep ! busy-timeout .sre/config
'

test_expect_success '--type prints booleans, sizes and durations canonically' '
	sre -c a.b=YES config --type bool a.b >out && echo true >expect && test_cmp expect out &&
	sre -c a.b=2k config --type int a.b >out && echo 2048 >expect && test_cmp expect out &&
	sre -c a.b=1h30m config --type duration a.b >out && echo 5400000 >expect && test_cmp expect out &&
	test_expect_code 128 sre -c a.b=maybe config --type bool a.b 2>err &&
	test_grep "not a boolean" err
'

test_expect_success '--unset removes the key; unsetting a missing key exits 1' '
	sre config core.db /tmp/x.db &&
	sre config --unset core.db &&
	test_grep ! "db =" .sre/config &&
	test_expect_code 1 sre config --unset core.db 2>err &&
	test_grep "core.db is not set" err
'

test_expect_success '--list shows every setting in order; --show-origin says where' '
	sre -c extra.key=1 config --list >out &&
	test_grep -x "core.actor=from-global" out &&
	test_grep -x "core.actor=alice" out &&
	test_grep -x "extra.key=1" out &&
	sre -c extra.key=1 config --list --show-origin >out &&
	test_grep "^local	file:.sre/config:2	core.actor=alice$" out &&
	test_grep "^command	command line:	extra.key=1$" out
'

test_expect_success 'sre refuses to store a secret' '
	cp .sre/config before &&
	test_expect_code 128 sre config github.token ghp_abc123 2>err &&
	test_grep "does not store secrets" err &&
	test_grep ! ghp_abc123 err &&
	test_cmp before .sre/config
'

test_expect_success 'a secret in a file others can read draws a warning; --list redacts it' '
	mkdir sec && cd sec && mkdir .sre &&
	printf "[jira]\n\tpassword = hunter2\n" >.sre/config &&
	chmod 644 .sre/config &&
	sre config --list >out 2>err &&
	test_grep "warning: jira.password is set in .sre/config, which other users can read" err &&
	test_grep -x "jira.password=<redacted>" out &&
	test_grep ! hunter2 out err &&
	chmod 600 .sre/config &&
	sre config --list >out 2>err &&
	! test -s err
'

test_expect_success 'a secret in an included file others can read draws a warning too' '
	mkdir -p secinc/.sre &&
	printf "[include]\n\tpath = team\n" >secinc/.sre/config &&
	printf "[llm]\n\tapi-key = sk-123\n" >secinc/.sre/team &&
	chmod 600 secinc/.sre/config && chmod 644 secinc/.sre/team &&
	sre -C secinc config --list >out 2>err &&
	test_grep "warning: llm.api-key is set in .sre/team, which other users can read" err &&
	test_grep ! sk-123 out err
'

test_expect_success 'help and completion still answer while the file is malformed' '
	mkdir -p broken/.sre &&
	printf "[core\n" >broken/.sre/config &&
	test_expect_code 128 sre -C broken config core.actor 2>err &&
	test_grep "bad config line 1" err &&
	test_expect_code 129 sre -C broken config -h >out 2>err &&
	test_grep "^usage: sre config" out &&
	test_grep "bad config line 1" err &&
	sre -C broken incident --completion-helper >out &&
	test_grep "show" out &&
	sre -C broken incident open --completion-helper >out &&
	test_grep -- "--service=" out
'

test_expect_success 'a secret given with -c draws a warning about the process list' '
	sre -c github.token=abc config --list >out 2>err &&
	test_grep "github.token given with -c can be seen by other users" err &&
	test_grep ! abc out err
'

test_expect_success 'include.path reads another file, relative to the including one' '
	mkdir -p inc/.sre inc/.sre/more &&
	printf "[include]\n\tpath = more/extra\n[core]\n\tactor = before\n" >inc/.sre/config &&
	printf "[core]\n\tdb = ~/included.db\n" >inc/.sre/more/extra &&
	sre -C inc config --type path core.db >out &&
	echo "$HOME/included.db" >expect &&
	test_cmp expect out
'

test_expect_success 'an include loop is stopped with an error' '
	mkdir -p loop/.sre &&
	printf "[include]\n\tpath = config\n" >loop/.sre/config &&
	test_expect_code 128 sre -C loop config core.actor 2>err &&
	test_grep "nested too deeply" err
'

test_expect_success 'core.db in the configuration places the store' '
	mkdir elsewhere &&
	sre -c core.db="$PWD/elsewhere/s.db" incident open -s svc -t title >/dev/null &&
	test -f elsewhere/s.db
'

test_expect_success '--known-keys lists the keys sre knows with their types' '
	sre config --known-keys >out &&
	test_grep "^core.db  *path " out &&
	test_grep "^color.ui  *auto|always|never " out
'

test_expect_success '--known-keys gives each key'"'"'s default and marks the protected' '
	sre config --known-keys >out &&
	test_grep "^core.busy-timeout  *duration  *.* (default 30s)$" out &&
	test_grep "^github.token-command  *command  *.* \[protected\]$" out &&
	test_grep ! "(default.*(default" out
'

test_expect_success '--man goes only with --known-keys' '
	test_expect_code 129 sre config --man 2>err &&
	test_grep "man goes with --known-keys" err
'

# The page the build makes (man/sre-config.5) is scdoc over what
# --known-keys --man prints: a heading per key with its type and trust,
# then its help and default.
test_expect_success 'sre-config(5) has every key of the table, its type, default and trust' '
	sre config --known-keys >keys &&
	test_line_count -gt 50 keys &&
	awk "{ print \"*\" \$1 \"* (\" \$2 \")\" (\$NF == \"[protected]\" ? \" [protected]\" : \"\") }" \
		keys | sort >expect &&
	sre config --known-keys --man >page.scd &&
	grep -F -x -f expect page.scd | sort >actual &&
	test_cmp expect actual &&
	grep -c "(default " keys >expect &&
	grep -c "^	Default: " page.scd >actual &&
	test_cmp expect actual &&
	test_grep -x -F "	Default: 30s." page.scd &&
	test_grep -x -F "	Default: \$XDG\_STATE\_HOME/sre/sre.db." page.scd &&
	scdoc <page.scd >page.5 &&
	test_cmp page.5 "$SRE_BUILD_DIR/man/sre-config.5"
'

test_expect_success MAN 'man shows sre-config(5)' '
	man -l "$SRE_BUILD_DIR/man/sre-config.5" >out &&
	test_grep "core.busy-timeout (duration)" out &&
	test_grep "Default: 30s." out
'

test_expect_success 'color.ui takes only auto, always and never' '
	test_expect_code 128 sre config color.ui true 2>err &&
	test_grep "color.ui takes one of auto|always|never" err
'

test_expect_success 'colour only when asked or on a terminal, never with NO_COLOR' '
	sre incident open -s colour -t "bright red" --severity critical >/dev/null &&
	sre incident list >plain &&
	test_grep ! "$(printf "\033")" plain &&
	sre -c color.ui=always incident list >coloured &&
	grep "$(printf "\033")" coloured &&
	NO_COLOR=1 sre -c color.ui=always incident list >nocolor &&
	test_grep ! "$(printf "\033")" nocolor
'

test_done
