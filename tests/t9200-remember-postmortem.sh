#!/bin/sh
test_description='sre remember postmortem: a resolved incident written up in Markdown, on stdout or in a file'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 to read the incident list"
fi

test_expect_success 'setup: quick verification, a process service that runs' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[fix]
		verify-interval = 100ms
		verify-timeout = 3s
	EOT
	make_service quote &&
	bin/start-quote &&
	kill -0 "$(cat run/quote.pid)"
'

test_expect_success 'a restart sre fix carried out and verified, written up on stdout' '
	id=$(incident_for quote) && echo "$id" >id1 &&
	sre fix --yes "$id" >fix.out &&
	test_grep "incident $id is resolved" fix.out &&
	sre remember postmortem "$id" >pm.md 2>err &&
	! test -s err &&
	test_grep "^# Post-mortem: incident $id: quote is not running" pm.md &&
	test_grep "^| Detected by | process |$" pm.md &&
	test_grep "a process check (its pidfile) run by sre scout reported a problem with the service quote" pm.md &&
	test_grep "after sre carried out a restart of quote and a re-run of the incident.s check confirmed it: quote is running as process" pm.md &&
	test_grep "^| +0:00:0[0-9] | [0-9-]* [0-9:]* | action-started | [^|]* | restart of quote (process), approved by person |$" pm.md &&
	test_grep "^The latest diagnosis (at +0:00:0[0-9], 1 in all) found crash (confidence 0.85): quote is not running" pm.md &&
	test_grep "^- +0:00:0[0-9]: restart of quote (process), approved by person; at +0:00:0[0-9]: done: quote restarted: pid" pm.md &&
	test_grep "^Verification: sre re-ran the incident.s check after the fix, and it passed: quote is running as process" pm.md &&
	test_grep "^- The restart of quote worked, and verification confirmed it.$" pm.md &&
	test_grep "^None found in sre.s memory.$" pm.md &&
	test "$(grep -c "^## " pm.md)" = 11
'

test_expect_success '-o writes the same document to a file, mode 0644, with no temporary file left' '
	id=$(cat id1) &&
	mkdir out &&
	(umask 077 && sre remember postmortem -o out/pm.md "$id" >stdout) &&
	! test -s stdout &&
	test_cmp pm.md out/pm.md &&
	test "$(stat -c %a out/pm.md)" = 644 &&
	test "$(ls -A out)" = pm.md
'

test_expect_success '-o replaces a file whole, through a link without following it' '
	id=$(cat id1) &&
	echo old >out/old.md &&
	ln -s old.md out/link.md &&
	sre remember postmortem --output out/link.md "$id" &&
	test_cmp pm.md out/link.md &&
	! test -h out/link.md &&
	echo old >expect &&
	test_cmp expect out/old.md &&
	sre remember postmortem -o out/old.md "$id" &&
	test_cmp pm.md out/old.md &&
	test "$(ls -A out | wc -l)" = 3
'

test_expect_success '-o - is stdout' '
	sre remember postmortem -o - "$(cat id1)" >dash.md &&
	test_cmp pm.md dash.md
'

test_expect_success '-o refuses a directory, and a place it cannot write' '
	id=$(cat id1) &&
	test_expect_code 128 sre remember postmortem -o out "$id" >stdout 2>err &&
	! test -s stdout &&
	test_grep "error: .out. is a directory: give the post-mortem a file name" err &&
	test_grep "^fatal: " err &&
	test_expect_code 128 sre remember postmortem -o missing/pm.md "$id" 2>err &&
	test_grep "error: cannot create a file beside missing/pm.md: No such file or directory" err &&
	! test -e missing
'

test_expect_success 'an incident a person took over and resolved, with what was said about it' '
	sre incident open --service cart --title "cart checkout fails" --severity critical >id &&
	id=$(cat id) &&
	sre incident transition --reason "restart did not hold" "$id" requires-human &&
	printf "%s\n" "Port 8080 was held by a stray process." "Stopped it with password=hunter2 and restarted cart." |
		sre incident comment "$id" - &&
	sre incident resolve --reason "fixed by hand" "$id" &&
	sre remember postmortem "$id" >cart.md &&
	test_grep "It was resolved [0-9]*s later, by tester, after sre had handed it to a person (1 escalation)." cart.md &&
	test_grep "^Verification: not recorded: a person resolved it after sre handed it over" cart.md &&
	test_grep "^  > Port 8080 was held by a stray process.$" cart.md &&
	test_grep "^  > Stopped it with password=‹redacted:password› and restarted cart.$" cart.md &&
	test_grep "^- \[ \] Runbook: sre could not finish this incident alone (\"restart did not hold\")" cart.md &&
	test_grep "^- No check found it: a person opened it by hand.$" cart.md &&
	test_grep "^Nothing recorded: the incident was never diagnosed" cart.md &&
	! grep hunter2 cart.md
'

test_expect_success 'a hostile title stays one line of text' '
	sre incident open --service web --title "web down <script>x</script> \`\`\` # not a heading" >id &&
	id=$(cat id) &&
	sre incident resolve "$id" &&
	sre remember postmortem "$id" >web.md &&
	test_grep "^# Post-mortem: incident $id: web down \\\\<script>x\\\\</script> \\\\\`\\\\\`\\\\\` \\\\# not a heading$" web.md &&
	test "$(grep -c "^#" web.md)" = 14 &&
	! grep "^\`\`\`" web.md
'

test_expect_success 'an incident not resolved yet: exit 1, and nothing on stdout' '
	sre incident open --service api --title "api errors" >id &&
	id=$(cat id) &&
	test_expect_code 1 sre remember postmortem "$id" >stdout 2>err &&
	! test -s stdout &&
	echo "error: incident $id is not resolved yet (state INCIDENT_DETECTED): a post-mortem is written once it is" >expect &&
	test_cmp expect err &&
	test_expect_code 1 sre remember postmortem -o api.md "$id" 2>err &&
	! test -e api.md
'

test_expect_success 'no such incident: exit 1, with a store and without one' '
	test_expect_code 1 sre remember postmortem 999 >stdout 2>err &&
	! test -s stdout &&
	echo "error: no incident 999" >expect &&
	test_cmp expect err &&
	test_expect_code 1 sre --db none.db remember postmortem 999 2>err &&
	test_cmp expect err &&
	! test -e none.db
'

test_expect_success 'a bad id or a missing one is a usage error: 129' '
	test_expect_code 129 sre remember postmortem abc 2>err &&
	test_grep "error: .abc. is not an incident id (a positive number)" err &&
	test_grep "usage: sre remember postmortem \[-o <file>\] <id>" err &&
	test_expect_code 129 sre remember postmortem 0 2>err &&
	test_expect_code 129 sre remember postmortem 2>err &&
	test_grep "takes one incident id" err &&
	test_expect_code 129 sre remember postmortem 1 2 2>err &&
	test_expect_code 129 sre remember postmortem --bogus 1 2>err &&
	test_expect_code 129 sre remember postmortem -h >help &&
	test_grep "^usage: sre remember postmortem \[-o <file>\] <id>$" help
'

test_expect_success 'the same failure three times: the past ones recalled, a person asked, an architectural follow-up' '
	id2=$(incident_for quote) &&
	sre fix --yes "$id2" >fix.out &&
	test_grep "incident $id2 is resolved" fix.out &&
	id3=$(incident_for quote) &&
	test_expect_code 1 sre fix --yes "$id3" 2>fix.err &&
	test_grep "stays with a person" fix.err &&
	sre incident comment "$id3" "a cron job killed quote every minute; removed it" &&
	sre incident resolve --reason "cron job removed" "$id3" &&
	sre remember postmortem "$id3" >chronic.md &&
	test_grep "^- Incident $id2: quote is not running: .*What was done: restart" chronic.md &&
	test_grep "^- Incident $(cat id1): quote is not running: .*Why it is similar: same fingerprint" chronic.md &&
	test_grep "^- \[ \] Architectural follow-up: this problem has recurred 3 times .*(incidents $(cat id1), $id2, $id3), matched by its fingerprint \"process/quote/gone\"" chronic.md &&
	test_grep "^- \[ \] Runbook: sre could not finish this incident alone" chronic.md &&
	test_grep "^  > a cron job killed quote every minute; removed it$" chronic.md
'

test_expect_success 'a store that fails is fatal: 128' '
	echo "not a database" >notdb &&
	test_expect_code 128 sre --db notdb remember postmortem 1 2>err &&
	test_grep "^fatal: " err &&
	cp "$SRE_DB" broken.db &&
	sqlite3 broken.db "DROP TABLE events" &&
	test_expect_code 128 sre --db broken.db remember postmortem "$(cat id1)" >stdout 2>err &&
	! test -s stdout &&
	test_grep "^fatal: sre remember could not finish" err
'

test_done
