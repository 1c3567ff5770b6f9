#!/bin/sh
test_description='sre remember: the memory index, search, similar, known errors, chronic problems, and diagnose recalling past fixes'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 to read JSON"
fi

# The value of a JSON field, by path (see field() in test-lib.sh).
confidence() {
	sre diagnose --json "$1" >diag.json && field diag.json confidence
}

test_expect_success 'setup: a process service, quick verification, no hold window yet' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[fix]
		verify-interval = 100ms
		verify-timeout = 3s
	[remember]
		hold-window = 0
	EOT
	make_service web &&
	bin/start-web &&
	kill -0 "$(cat run/web.pid)"
'

test_expect_success 'a first incident: nothing to recall' '
	id=$(incident_for web) && echo $id >id1 &&
	sre diagnose --json "$id" >diag1.json &&
	test "$(field diag1.json known_error)" = null &&
	test "$(field diag1.json memory)" = null &&
	python3 -c "import json; assert json.load(open(\"diag1.json\"))[\"similar\"] == []" &&
	field diag1.json confidence >c1 &&
	sre fix --yes "$id" >/dev/null &&
	sre incident show --json "$id" >show.json &&
	test "$(field show.json state)" = INCIDENT_RESOLVED
'

test_expect_success 'sre remember indexes what changed, once' '
	sre remember 2>err &&
	test_grep "remembered 1 incident" err &&
	sre remember 2>err &&
	test_line_count = 0 err &&
	sqlite3 "$SRE_DB" "SELECT incident_id, action, worked FROM memory" >rows &&
	echo "$(cat id1)|restart|1" >expect &&
	test_cmp expect rows
'

test_expect_success 'the second time, diagnose recalls the fix that worked, and trusts it more' '
	id=$(incident_for web) && echo $id >id2 &&
	sre diagnose --json "$id" >diag2.json &&
	test "$(field diag2.json similar 0 id)" = "$(cat id1)" &&
	test "$(field diag2.json similar 0 action)" = restart &&
	test "$(field diag2.json similar 0 worked)" = True &&
	field diag2.json similar 0 why >why &&
	test_grep "same fingerprint" why &&
	field diag2.json memory >note &&
	test_grep "restart fixed the same problem before (incident $(cat id1))" note &&
	python3 -c "import sys; assert float(sys.argv[1]) > float(sys.argv[2])" \
		"$(field diag2.json confidence)" "$(cat c1)" &&
	sre diagnose "$id" >diag2.txt &&
	test_grep "^Similar past incidents" diag2.txt &&
	test_grep "^  #$(cat id1)  " diag2.txt &&
	test_grep "restart: worked" diag2.txt &&
	test_grep "^Memory      restart fixed the same problem before" diag2.txt &&
	sre fix --yes "$id" >/dev/null
'

test_expect_success 'the third time the rules hand it to a person; memory does not overrule them' '
	id=$(incident_for web) && echo $id >id3 &&
	sre diagnose --json "$id" >diag3.json &&
	test "$(field diag3.json mitigation action)" = escalate &&
	test "$(field diag3.json similar 0 id)" = "$(cat id2)" &&
	test "$(field diag3.json similar 1 id)" = "$(cat id1)"
'

test_expect_success 'sre remember similar: the same objects, best first, never itself' '
	sre remember similar --json "$(cat id3)" >sim.json &&
	python3 - "$(cat id1)" "$(cat id2)" <<-\EOT &&
	import json, sys
	hits = json.load(open("sim.json"))
	assert [h["id"] for h in hits] == [int(sys.argv[2]), int(sys.argv[1])], hits
	for h in hits:
	    assert set(h) >= {"id", "title", "service", "category", "score", "resolution",
	                      "action", "worked", "why"}, h
	    assert h["worked"] is True and h["action"] == "restart", h
	    assert h["resolution"].startswith("resolved by "), h
	assert hits[0]["score"] >= hits[1]["score"]
	EOT
	sre remember similar -n 1 "$(cat id3)" >sim.txt &&
	test_grep "^$(cat id2)  web: " sim.txt &&
	test_grep "action: restart, worked" sim.txt &&
	test_grep ! "^$(cat id1)  " sim.txt
'

test_expect_success 'known-after verified fixes make a known error; chronic lists the fingerprint' '
	sre -c remember.known-after=2 remember &&
	sre remember known --json >known.json &&
	test "$(field known.json 0 action)" = restart &&
	test "$(field known.json 0 target)" = web &&
	test "$(field known.json 0 added_by)" = "sre remember" &&
	test "$(field known.json 0 incident)" = "$(cat id2)" &&
	sre remember chronic --json >chronic.json &&
	test "$(field chronic.json 0 kind)" = fingerprint &&
	test "$(field chronic.json 0 occurrences)" = 3 &&
	field chronic.json 0 fixes >fixes &&
	echo "restart 2 times (2 worked, 0 failed); nothing tried 1 time" >expect &&
	test_cmp expect fixes &&
	sre remember chronic >chronic.txt &&
	test_grep "^3 times  web  fingerprint " chronic.txt
'

test_expect_success 'chronic counts only within remember.chronic-window, and from chronic-after' '
	SRE_NOW=2099-01-30T00:00:00Z sre remember chronic --json >later.json &&
	echo "[]" >expect &&
	test_cmp expect later.json &&
	sre -c remember.chronic-after=4 remember chronic --json >four.json &&
	test_cmp expect four.json &&
	test_expect_code 128 sre -c remember.chronic-after=1 remember chronic 2>err &&
	test_grep "remember.chronic-after takes a number from 2" err
'

test_expect_success 'a problem back within remember.hold-window: its fix is remembered as failed' '
	sre -c remember.hold-window=1h remember --rebuild &&
	sre -c remember.hold-window=1h remember similar --json "$(cat id3)" >held.json &&
	test "$(field held.json 0 worked)" = False &&
	field held.json 0 resolution >res &&
	test_grep "came back .* later (incident $(cat id3)), so the fix did not hold" res &&
	sre remember --rebuild &&
	sre remember similar --json "$(cat id3)" >held.json &&
	test "$(field held.json 0 worked)" = True
'

test_expect_success 'a known error gives the answer when the rules find nothing' '
	sre incident resolve "$(cat id3)" >/dev/null 2>&1 &&
	bin/start-web &&
	fp=$(sqlite3 "$SRE_DB" "SELECT fingerprint FROM incidents WHERE id = $(cat id3)") &&
	id=$(sre incident open -s web -t "web stopped answering" --fingerprint "$fp") &&
	sre diagnose --json "$id" >known-diag.json &&
	test "$(field known-diag.json known_error action)" = restart &&
	test "$(field known-diag.json mitigation action)" = restart &&
	test "$(field known-diag.json mitigation target)" = web &&
	field known-diag.json root_cause >cause &&
	test_grep "^known error [0-9]*: the same problem as incident $(cat id2), which a restart of web fixed" cause &&
	field known-diag.json memory >note &&
	test_grep "gave the answer" note &&
	sre diagnose "$id" >known-diag.txt &&
	test_grep "^Known error " known-diag.txt &&
	sre incident resolve "$id" >/dev/null 2>&1
'

test_expect_success 'known add: a person records a runbook; an incident without a fix is refused' '
	sre remember known add --runbook "check the heap after each deploy" "$(cat id1)" 2>err &&
	test_grep "is now a known error" err &&
	sre remember known --json >known.json &&
	test "$(field known.json 0 runbook)" = "check the heap after each deploy" &&
	id=$(sre incident open -s db -t "disk full") &&
	test_expect_code 1 sre remember known add "$id" 2>err &&
	test_grep "has no action to remember as its fix" err &&
	test_expect_code 1 sre remember known add 9999 2>err &&
	test_grep "no incident 9999" err &&
	sre incident resolve "$id" >/dev/null 2>&1
'

test_expect_success 'setup: past incidents worded their own way' '
	for t in "gateway TLS certificate expired, clients refused" \
		 "orders database disk full on /var/lib/postgresql" \
		 "checkout pods OOMKilled after the 2.3 deploy" \
		 "payments latency p99 above 2s, upstream timeouts"
	do
		id=$(sre incident open -s "${t%% *}" -t "$t") &&
		sre incident comment "$id" "worked on it: $t" >/dev/null &&
		sre incident resolve --reason "fixed by hand" "$id" >/dev/null 2>&1 || return 1
	done &&
	sre incident comment 1 "the admin password=hunter2hunter2 was in the config" >/dev/null
'

test_expect_success 'search finds past incidents worded differently, best first' '
	sre remember search --json "certificates expiring on the gateway" >s.json &&
	field s.json 0 title >title &&
	echo "gateway TLS certificate expired, clients refused" >expect &&
	test_cmp expect title &&
	field s.json 0 why >why &&
	test_grep "text: title" why &&
	field s.json 0 snippet >snip &&
	test_grep "\[certificate\]" snip &&
	sre remember search "orders ran out of disk space" >s.txt &&
	head -1 s.txt >first &&
	test_grep "orders database disk full" first &&
	sre remember search -n 1 --json deploy >one.json &&
	python3 -c "import json; assert len(json.load(open(\"one.json\"))) == 1"
'

test_expect_success 'diagnose --problem recalls past incidents by its words' '
	sre diagnose --problem "the gateway certificate has expired" --service gateway --json >p.json &&
	test "$(field p.json similar 0 title)" = "gateway TLS certificate expired, clients refused" &&
	sre diagnose --problem "the gateway certificate has expired" --service gateway >p.txt &&
	test_grep "^Similar past incidents" p.txt
'

test_expect_success 'search: nothing found exits 1; no text is a usage error' '
	test_expect_code 1 sre remember search zyzzyva >out &&
	test_line_count = 0 out &&
	test_expect_code 129 sre remember search 2>err &&
	test_expect_code 129 sre remember search -n 0 web 2>err &&
	test_grep "n takes a number from 1 to 1000" err &&
	test_expect_code 129 sre remember search "<*> --" 2>err &&
	test_grep "nothing to search for" err
'

test_expect_success 'search text is never FTS5 syntax' '
	for q in "title:gateway" "NEAR(gateway tls)" "\"" "*" "gateway OR" "-gateway" "^web" "a AND b NOT c" "{title}: x"
	do
		sre remember search "$q" >out 2>err
		rc=$?
		test $rc = 0 || test $rc = 1 || test $rc = 129 || { echo "rc $rc for $q"; return 1; }
		test_grep ! "fts5" err || return 1
	done
'

test_expect_success 'secrets in comments are masked in what memory keeps and shows' '
	sre remember search --json password >pw.json &&
	test_grep ! hunter2hunter2 pw.json &&
	sqlite3 "$SRE_DB" "SELECT comments FROM memory" >kept &&
	test_grep ! hunter2hunter2 kept
'

test_expect_success 'incidents of chaos experiments are left out of recall unless asked' '
	id=$(sre incident open -s gateway -t "chaos: gateway certificate expired" --source chaos) &&
	sre incident resolve "$id" >/dev/null 2>&1 &&
	sre remember search --json certificate >c.json &&
	test_grep ! "chaos:" c.json &&
	sre remember search --include-chaos --json certificate >c.json &&
	test_grep "chaos: gateway certificate expired" c.json
'

test_expect_success 'similar and known: a bad id is a usage error, a missing one exits 1' '
	test_expect_code 129 sre remember similar abc 2>err &&
	test_expect_code 129 sre remember similar 2>err &&
	test_expect_code 1 sre remember similar 9999 2>err &&
	test_grep "no incident 9999" err &&
	test_expect_code 129 sre remember known add 2>err &&
	test_expect_code 129 sre remember sideways 2>err
'

test_expect_success 'a corrupt index says how to mend it, and --rebuild mends it' '
	sqlite3 "$SRE_DB" "UPDATE memory_fts_data SET block = x'"'"'0000ffff'"'"' WHERE id > 10" &&
	test_expect_code 128 sre remember search certificate >out 2>err &&
	test_grep "sre remember --rebuild" err &&
	sre remember --rebuild &&
	sre remember search --json certificate >mended.json &&
	field mended.json 0 title >title &&
	test_grep "certificate" title
'

test_expect_success 'remember.postmortems: resolving an incident commits its post-mortem in remember.repo' '
	repo="$XDG_STATE_HOME/sre/memory" &&
	id=$(sre incident open -s billing -t "billing queue stuck") &&
	sre -c remember.postmortems=true incident resolve "$id" 2>err &&
	test_grep "wrote the post-mortems\{0,1\} of [0-9]* resolved incidents\{0,1\} in $repo" err &&
	git --git-dir="$repo" ls-tree -r --name-only main >files &&
	test_grep "^incidents/[a-z0-9-]*/20[0-9][0-9]/$id-billing-queue-stuck\.md\$" files &&
	test_grep "^incidents/[a-z0-9-]*/20[0-9][0-9]/$id-billing-queue-stuck\.json\$" files &&
	path=$(grep "/$id-billing-queue-stuck\.md\$" files) &&
	git --git-dir="$repo" show "main:$path" >pm.md &&
	test_grep "billing queue stuck" pm.md &&
	sre -c remember.postmortems=true remember 2>err &&
	test_grep ! "wrote the post-mortem" err &&
	sqlite3 "$SRE_DB" "SELECT count(*) FROM memory WHERE committed_at IS NOT NULL AND pushed_at IS NULL" >n &&
	test "$(cat n)" -ge 1 &&
	git --git-dir="$repo" for-each-ref refs/remotes >remotes &&
	test_line_count = 0 remotes
'

test_expect_success 'remember.postmortems: an incident scout resolves as recovered gets its post-mortem too' '
	repo="$XDG_STATE_HOME/sre/memory" &&
	{ kill -0 "$(cat run/web.pid)" 2>/dev/null || bin/start-web; } &&
	kill_service web &&
	sre scout >/dev/null &&
	sre incident list --json >open.json &&
	id=$(python3 -c "import json; print(max(i[\"id\"] for i in json.load(open(\"open.json\")) if i[\"service\"] == \"web\"))") &&
	bin/start-web &&
	: >err &&
	for i in 1 2 3 4 5; do
		sre -c remember.postmortems=true scout >out 2>>err || return 1
		grep -q "recovered $id " out && break
	done &&
	test_grep "^recovered $id " out &&
	test_grep "wrote the post-mortem" err &&
	git --git-dir="$repo" ls-tree -r --name-only main >files &&
	test_grep "/$id-web-is-not-running.*\.md\$" files
'

test_done
