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

test_expect_success 'get, set, unset and list do what git'"'"'s forms do' '
	mkdir -p verbs/.sre && cd verbs &&
	sre config set jira.issue-type Outage &&
	sre config get jira.issue-type >out &&
	echo Outage >expect && test_cmp expect out &&
	sre config jira.issue-type >out && test_cmp expect out &&
	sre config set --global core.busy-timeout 1m &&
	sre config get --global --type duration core.busy-timeout >out &&
	echo 60000 >expect && test_cmp expect out &&
	sre config list >out1 && sre config --list >out2 && test_cmp out1 out2 &&
	test_grep -x "jira.issue-type=Outage" out1 &&
	sre config list --show-origin >out &&
	test_grep "^local	file:.sre/config:2	jira.issue-type=Outage$" out &&
	sre config set --add docker.ignore a &&
	sre config set --add docker.ignore b &&
	grep -c "ignore = [ab]" .sre/config >n &&
	echo 2 >expect && test_cmp expect n &&
	sre config unset jira.issue-type &&
	test_expect_code 1 sre config get jira.issue-type >out &&
	! test -s out &&
	test_expect_code 1 sre config unset jira.issue-type 2>err &&
	test_grep "jira.issue-type is not set in .sre/config" err &&
	sre config --global --unset core.busy-timeout
'

test_expect_success 'a word near a verb is answered with the verb; a verb takes its own arguments' '
	test_expect_code 129 sre config lsit 2>err &&
	test_grep "^error: .lsit. is not a config verb; did you mean .list.?$" err &&
	test_expect_code 129 sre config gte core.actor 2>err &&
	test_grep "did you mean .get.?" err &&
	test_expect_code 129 sre config get 2>err &&
	test_grep "^usage: sre config" err &&
	test_expect_code 129 sre config set core.actor 2>err &&
	test_expect_code 129 sre config list core.actor 2>err &&
	test_expect_code 129 sre config get --unset core.actor 2>err &&
	test_grep "do not go together" err &&
	test_expect_code 129 sre config get --add core.actor x 2>err &&
	test_expect_code 128 sre config nodot 2>err &&
	test_grep "invalid key .nodot." err
'

test_expect_success 'a misspelt key in a file is named once, with file, line and the nearest key' '
	mkdir -p typo/.sre &&
	printf "[http]\n\ttimout = 5s\n[core]\n\tcolour = never\n\tactor = x\n[http]\n\ttimout = 6s\n[myext]\n\tcolour-scheme = dark\n" >typo/.sre/config &&
	sre -C typo incident list >out 2>err &&
	test_grep "^warning: unknown key http.timout in .sre/config line 2; did you mean http.timeout?$" err &&
	test_grep "^warning: unknown key core.colour in .sre/config line 4; did you mean color.ui?$" err &&
	grep -c "http.timout" err >n && echo 1 >expect && test_cmp expect n &&
	test_grep ! myext err &&
	sre -C typo -c http.retrys=1 config get core.actor >out 2>err &&
	test_grep "^warning: unknown key http.retrys on the command line; did you mean http.retries?$" err &&
	printf "[http]\n\ttimeout = 5s\n" >typo/.sre/config &&
	sre -C typo incident list >out 2>err &&
	! test -s err
'

test_expect_success 'sre config set and get say so for a misspelt key' '
	mkdir -p typo2/.sre && cd typo2 &&
	sre config set http.timout 5s 2>err &&
	test_grep "^warning: unknown key http.timout; did you mean http.timeout? (written all the same)$" err &&
	test_grep "timout = 5s" .sre/config &&
	printf "" >.sre/config &&
	test_expect_code 1 sre config get jaeger.lookbak >out 2>err &&
	! test -s out &&
	test_grep "^warning: unknown key jaeger.lookbak; did you mean jaeger.lookback?$" err &&
	sre config set core.actor me 2>err &&
	! test -s err
'

test_expect_success 'a secret is never printed by get, nor by <key>, nor by list' '
	mkdir -p secret/.sre && cd secret &&
	printf "[github]\n\ttoken = ghp_secret123\n[slack]\n\twebhook = https://hooks.example/T0/B0/xyz\n\ttoken-command = pass show x\n" >.sre/config &&
	chmod 600 .sre/config &&
	sre config github.token >out 2>err &&
	echo "<redacted>" >expect && test_cmp expect out &&
	sre config get github.token >out 2>>err && test_cmp expect out &&
	sre config get --type bool slack.webhook >out 2>>err && test_cmp expect out &&
	sre config --file .sre/config get slack.webhook >out 2>>err && test_cmp expect out &&
	sre config list >out 2>>err &&
	test_grep -x "github.token=<redacted>" out &&
	test_grep -x "slack.webhook=<redacted>" out &&
	test_grep ! "ghp_secret123\|hooks.example" out err &&
	sre config get slack.token-command >out &&
	echo "pass show x" >expect && test_cmp expect out &&
	test_expect_code 1 sre config get jira.token >out &&
	! test -s out
'

test_expect_success 'the secret messages name the key sre reads, not a shortened or made-up one' '
	mkdir -p hook/.sre && cd hook &&
	test_expect_code 128 sre config slack.webhook-url https://hooks.example/x 2>err &&
	test_grep "^fatal: slack.webhook-url holds a secret, and sre does not store secrets; use slack.webhook-command (a command that prints it) or SLACK_WEBHOOK_URL$" err &&
	test_grep ! "webhook-url-command" err &&
	test_grep ! hooks.example err &&
	test_expect_code 128 sre config set prometheus.password pw 2>err &&
	test_grep "use prometheus.password-command (a command that prints it) or PROMETHEUS_PASSWORD$" err &&
	printf "[slack]\n\twebhook-url = https://hooks.example/x\n" >.sre/config &&
	chmod 644 .sre/config &&
	sre -c slack.webhook=x config list >out 2>err &&
	test_grep "^warning: slack.webhook-url is set in .sre/config, which other users can read; use slack.webhook-command (a command that prints it) or SLACK_WEBHOOK_URL instead$" err &&
	test_grep "^warning: slack.webhook given with -c can be seen by other users in the process list; use slack.webhook-command (a command that prints it) or SLACK_WEBHOOK_URL instead$" err
'

test_expect_success 'a PromQL query whose quotes the format took draws a warning with the line to write' '
	mkdir -p promql/.sre && cd promql &&
	cat >.sre/config <<-\EOT &&
	[check "errors"]
		prometheus = rate(http_requests_total{code="500"}[5m]) > 0.1
		above = 0
	EOT
	sre config get check.errors.prometheus >out 2>err &&
	echo "rate(http_requests_total{code=500}[5m]) > 0.1" >expect &&
	test_cmp expect out &&
	test_grep "^warning: .sre/config line 2: the double quotes in check.errors.prometheus were read as the config file.s own quoting and dropped, so Prometheus would get rate(http_requests_total{code=500}\[5m\]) > 0.1; write each quote as \\\\\": prometheus = rate(http_requests_total{code=\\\\\"500\\\\\"}\[5m\]) > 0.1$" err &&
	# The line the warning gives is the line that works.
	sed -n "s/.*write each quote as \\\\\": //p" err >fixed &&
	{ echo "[check \"errors\"]" && sed "s/^/	/" fixed; } >.sre/config &&
	sre config get check.errors.prometheus >out 2>err &&
	echo "rate(http_requests_total{code=\"500\"}[5m]) > 0.1" >expect &&
	test_cmp expect out &&
	! test -s err &&
	# sre config writes it escaped in the first place.
	sre config set check.errors.samples "sum(up{job=\"api\"})" &&
	test_grep -F "samples = sum(up{job=\\\"api\\\"})" .sre/config &&
	sre config get check.errors.samples >out 2>err &&
	echo "sum(up{job=\"api\"})" >expect && test_cmp expect out &&
	! test -s err
'

test_expect_success 'sre-config(5) says how to write quotes in a PromQL key' '
	sre config --known-keys >out &&
	test_grep "^check.<name>.prometheus  *promql .*write each \" as \\\\\"" out &&
	sre config --known-keys --man >page &&
	sed -n "/^\*check.<name>.prometheus\*/,/^\$/p" page >entry &&
	test_grep "(promql)" entry &&
	test_grep -F "write each \" as \\\\\"" entry &&
	test_grep -F "each double quote of it is written \\\\\"" page
'

test_done
