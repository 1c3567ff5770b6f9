#!/bin/sh
test_description='sre incident: open, deduplicate, list, show, transition, comment'
. "$(dirname "$0")/test-lib.sh"

# The JSON value of one field of `sre incident show --json`, via SQLite's
# JSON functions (sqlite3 is one of the build's packages).
json_field() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '\$.$2')"
}

test_expect_success 'reading commands do not create a store' '
	sre incident list >out &&
	! test -s out &&
	test_expect_code 1 sre incident show 1 2>err &&
	test_grep "no incident 1" err &&
	test_expect_code 1 sre incident transition 1 ANALYSIS_IN_PROGRESS 2>err &&
	test_grep "no incident 1" err &&
	test_expect_code 1 sre incident comment 1 hi 2>err &&
	test_grep "no incident 1" err &&
	! test -e "$SRE_DB" &&
	! test -e "$(dirname "$SRE_DB")"
'

test_expect_success 'opening an incident prints its id and creates a private store' '
	sre incident open --service checkout --title "High error rate" >id &&
	echo 1 >expect &&
	test_cmp expect id &&
	test -f "$SRE_DB" &&
	test "$(stat -c %a "$SRE_DB")" = 600 &&
	test "$(stat -c %a "$(dirname "$SRE_DB")")" = 700
'

test_expect_success 'the same problem again counts an occurrence, same id' '
	sre incident open --service checkout --title "high   ERROR rate" >id 2>err &&
	echo 1 >expect &&
	test_cmp expect id &&
	test_grep "incident 1 is already open" err &&
	sre incident show --json 1 >show &&
	test "$(json_field show occurrences)" = 2
'

test_expect_success 'another problem opens another incident' '
	sre incident open -s checkout -t "Pod OOMKilled" --severity critical >id &&
	echo 2 >expect &&
	test_cmp expect id
'

test_expect_success 'an explicit fingerprint deduplicates across titles' '
	sre incident open -s api -t "p99 latency 2.1s" --fingerprint prom/api/latency --source prometheus >a &&
	sre incident open -s api -t "p99 latency 3.4s" --fingerprint prom/api/latency --source prometheus >b &&
	test_cmp a b &&
	sre incident show --json "$(cat a)" >show &&
	test "$(json_field show fingerprint)" = prom/api/latency &&
	test "$(json_field show source)" = prometheus &&
	test "$(json_field show title)" = "p99 latency 2.1s"
'

test_expect_success 'list shows open incidents in a table' '
	sre incident list >out &&
	test_grep "^ *ID  *STATE  *SEVERITY  *SERVICE  *AGE  *TITLE" out &&
	test_grep "^ *1  *INCIDENT_DETECTED  *medium  *checkout .*High error rate (x2)$" out &&
	test_grep "^ *2  *INCIDENT_DETECTED  *critical  *checkout .*Pod OOMKilled$" out &&
	test_line_count = 4 out
'

test_expect_success 'list --porcelain prints ids; filters by state and service' '
	sre incident list --porcelain >out &&
	printf "1\n2\n3\n" >expect && test_cmp expect out &&
	sre incident list --porcelain --service api >out &&
	echo 3 >expect && test_cmp expect out &&
	sre incident list --porcelain --state analysis_in_progress >out &&
	! test -s out
'

test_expect_success 'list --json prints an array with the stable field names' '
	sre incident list --json >out &&
	test "$(sqlite3 :memory: "SELECT json_array_length(readfile('"'"'out'"'"'))")" = 3 &&
	sqlite3 :memory: "SELECT group_concat(key, '"'"' '"'"') FROM json_each(json_extract(readfile('"'"'out'"'"'), '"'"'\$[0]'"'"'))" >keys &&
	echo "schema id fingerprint service title severity category state source occurrences opened_at updated_at resolved_at remote_key remote_url" >expect &&
	test_cmp expect keys
'

test_expect_success 'show prints the fields and the timeline' '
	sre incident show 1 >out &&
	test_grep "^incident 1  High error rate$" out &&
	test_grep "^service  *checkout$" out &&
	test_grep "^state  *INCIDENT_DETECTED$" out &&
	test_grep "^occurrences  *2$" out &&
	test_grep "^resolved_at  *-$" out &&
	test_grep "^timeline  from 20[0-9-]*T[0-9:]*Z$" out &&
	test_grep "opened  *tester  *High error rate (medium, from manual)" out &&
	test_grep "occurrence  *tester  *seen again (occurrence 2)" out
'

test_expect_success 'show --json has the events with at, kind, actor and body' '
	sre incident show --json 1 >out &&
	test "$(json_field out "events[0].kind")" = opened &&
	test "$(json_field out "events[0].actor")" = tester &&
	test "$(json_field out "events[1].kind")" = occurrence &&
	test "$(json_field out "events[0].body.title")" = "High error rate" &&
	test "$(json_field out resolved_at)" = "" &&
	test "$(json_field out "events[0].at")" = "$(json_field out opened_at)"
'

test_expect_success 'a missing incident is an error naming it, exit 1' '
	test_expect_code 1 sre incident show 42 >out 2>err &&
	test_grep "no incident 42" err &&
	! test -s out &&
	test_expect_code 1 sre incident transition 42 ANALYSIS_IN_PROGRESS 2>err &&
	test_grep "no incident 42" err &&
	test_expect_code 1 sre incident comment 42 hello 2>err &&
	test_grep "no incident 42" err
'

test_expect_success 'a bad id, state or severity is a usage error' '
	test_expect_code 129 sre incident show abc 2>err &&
	test_grep "not an incident id" err &&
	test_expect_code 129 sre incident show 0 &&
	test_expect_code 129 sre incident transition 1 FIXED 2>err &&
	test_grep "not an incident state" err &&
	test_grep "ANALYSIS_IN_PROGRESS" err &&
	test_expect_code 129 sre incident open -s a -t b --severity sev9 2>err &&
	test_grep "not a severity" err &&
	test_expect_code 129 sre incident open -s a 2>err &&
	test_grep "required" err &&
	test_expect_code 129 sre incident bogus 2>err &&
	test_grep "unknown subcommand" err &&
	test_expect_code 129 sre incident 2>err &&
	test_grep "needs a subcommand" err
'

test_expect_success 'text with control characters is refused, and nothing is stored' '
	test_expect_code 129 sre incident open -s api -t "$(printf "bad\033[31mtitle")" 2>err &&
	test_grep "the title contains a control character" err &&
	test_expect_code 129 sre incident open -s "" -t x 2>err &&
	test_grep "the service is empty" err &&
	sre incident list --porcelain --all >out &&
	test_line_count = 3 out
'

test_expect_success 'a transition along the graph is recorded with actor and reason' '
	sre incident transition --reason "rule engine started" 1 ANALYSIS_IN_PROGRESS 2>err &&
	test_grep "incident 1 is now ANALYSIS_IN_PROGRESS" err &&
	sre incident show --json 1 >out &&
	test "$(json_field out state)" = ANALYSIS_IN_PROGRESS &&
	test "$(json_field out "events[2].kind")" = transition &&
	test "$(json_field out "events[2].body.from")" = INCIDENT_DETECTED &&
	test "$(json_field out "events[2].body.to")" = ANALYSIS_IN_PROGRESS &&
	test "$(json_field out "events[2].body.reason")" = "rule engine started" &&
	test "$(json_field out "events[2].actor")" = tester
'

test_expect_success 'a forbidden transition is refused, naming both states' '
	test_expect_code 1 sre incident transition 1 PR_MERGED 2>err &&
	test_grep "incident 1 cannot go from ANALYSIS_IN_PROGRESS to PR_MERGED" err &&
	sre incident show --json 1 >out &&
	test "$(json_field out state)" = ANALYSIS_IN_PROGRESS &&
	test "$(json_field out "events[3].kind")" = ""
'

test_expect_success '--from moves only when the incident is still in that state' '
	test_expect_code 1 sre incident transition --from INCIDENT_DETECTED 1 ANALYSIS_COMPLETE 2>err &&
	test_grep "moved from INCIDENT_DETECTED to ANALYSIS_IN_PROGRESS meanwhile" err &&
	sre incident transition --from ANALYSIS_IN_PROGRESS 1 ANALYSIS_COMPLETE
'

test_expect_success 'a direct action skips the pull-request states, then resolves' '
	for s in FIX_GENERATION_IN_PROGRESS FIX_GENERATED DEPLOYMENT_IN_PROGRESS \
		 DEPLOYMENT_COMPLETE VERIFICATION_IN_PROGRESS VERIFICATION_COMPLETE \
		 INCIDENT_RESOLVED; do
		sre incident transition 1 $s || return 1
	done &&
	sre incident show --json 1 >out &&
	test "$(json_field out state)" = INCIDENT_RESOLVED &&
	test -n "$(json_field out resolved_at)"
'

test_expect_success 'a resolved incident leaves the open list and is closed for good' '
	sre incident list --porcelain >out &&
	printf "2\n3\n" >expect && test_cmp expect out &&
	sre incident list --porcelain --all >out &&
	printf "1\n2\n3\n" >expect && test_cmp expect out &&
	sre incident list --porcelain --state INCIDENT_RESOLVED >out &&
	echo 1 >expect && test_cmp expect out &&
	test_expect_code 1 sre incident transition 1 INCIDENT_REQUIRES_HUMAN 2>err &&
	test_grep "cannot go from INCIDENT_RESOLVED" err
'

test_expect_success 'the same problem after resolution opens a new incident' '
	sre incident open --service checkout --title "High error rate" >id &&
	echo 4 >expect &&
	test_cmp expect id
'

test_expect_success 'any open state can escalate to a human, who hands it back' '
	sre incident transition 2 ANALYSIS_IN_PROGRESS &&
	sre incident transition --reason "needs a DBA" 2 INCIDENT_REQUIRES_HUMAN &&
	test_expect_code 1 sre incident transition 2 FIX_GENERATED &&
	sre incident transition --reason "DBA fixed the index" 2 ANALYSIS_COMPLETE &&
	sre incident show --json 2 >out &&
	test "$(json_field out state)" = ANALYSIS_COMPLETE
'

test_expect_success 'comments join the timeline, from an argument or stdin' '
	sre incident comment 2 "rolled back by hand" &&
	printf "line one\nline two\n" | sre incident comment 2 - &&
	sre incident show --json 2 >out &&
	sqlite3 :memory: "SELECT json_extract(value, '"'"'\$.body.text'"'"') FROM json_each(json_extract(readfile('"'"'out'"'"'), '"'"'\$.events'"'"')) WHERE json_extract(value, '"'"'\$.kind'"'"') = '"'"'comment'"'"'" >comments &&
	printf "rolled back by hand\nline one\nline two\n" >expect &&
	test_cmp expect comments
'

test_expect_success 'a comment longer than 64 KiB is refused and not stored' '
	head -c 70000 /dev/zero | tr "\\0" x >big &&
	test_expect_code 129 sre incident comment 2 - <big 2>err &&
	test_grep "the comment is longer than 65536 bytes" err &&
	sre incident show --json 2 >out &&
	test_grep ! xxxxxxxxxx out
'

test_expect_success 'titles with quotes and UTF-8 come out as valid JSON' '
	sre incident open -s "café" -t "the \"cart\" is \\\\ broken; 100% — ünïcode" >id &&
	sre incident show --json "$(cat id)" >out &&
	test "$(sqlite3 :memory: "SELECT json_valid(readfile('"'"'out'"'"'))")" = 1 &&
	test "$(json_field out service)" = "café"
'

test_expect_success 'the timeline is append-only in the store itself' '
	test_must_fail sqlite3 "$SRE_DB" "UPDATE events SET actor = '"'"'mallory'"'"'" 2>err &&
	test_grep "append-only" err &&
	test_must_fail sqlite3 "$SRE_DB" "DELETE FROM events" 2>err &&
	test_grep "append-only" err
'

test_expect_success 'two processes writing at once: neither fails, nothing is lost' '
	rm -f "$SRE_DB" "$SRE_DB-wal" "$SRE_DB-shm" &&
	cat >writer.sh <<-\EOT &&
	i=0
	while [ $i -lt 40 ]; do
		sre incident open -s "svc-$1" -t "problem $i" >/dev/null || exit 1
		sre incident open -s shared -t "the same problem" >/dev/null || exit 1
		i=$((i + 1))
	done
	EOT
	{ { sh writer.sh a >a.out 2>&1; echo $? >a.code; } & } &&
	{ { sh writer.sh b >b.out 2>&1; echo $? >b.code; } & } &&
	wait &&
	echo 0 >expect &&
	test_cmp expect a.code && test_cmp expect b.code &&
	test_grep ! -i "locked" a.out b.out &&
	test "$(sqlite3 "$SRE_DB" "SELECT count(*) FROM incidents")" = 81 &&
	test "$(sqlite3 "$SRE_DB" "SELECT occurrences FROM incidents WHERE service = '"'"'shared'"'"'")" = 80 &&
	test "$(sqlite3 "$SRE_DB" "SELECT count(*) FROM events")" = 160
'

test_expect_success 'two first runs at the same moment both create the store' '
	i=0 &&
	while [ $i -lt 15 ]; do
		rm -f race.db race.db-wal race.db-shm &&
		{ sre --db race.db incident open -s a -t one >/dev/null 2>race.err1 & } &&
		sre --db race.db incident open -s a -t two >/dev/null 2>race.err2 &&
		wait &&
		! test -s race.err1 && ! test -s race.err2 &&
		test "$(sqlite3 race.db "SELECT count(*) FROM incidents")" = 2 || return 1
		i=$((i + 1))
	done
'

test_expect_success 'a file that is not a store is refused, and left alone' '
	echo "not a database" >notdb &&
	cp notdb before &&
	test_expect_code 128 sre --db notdb incident list 2>err &&
	test_grep "notdb is not an sre store" err &&
	test_cmp before notdb
'

test_expect_success 'a store from a newer sre is refused' '
	sre --db newer.db incident list &&
	sqlite3 newer.db "PRAGMA user_version = 99" &&
	test_expect_code 128 sre --db newer.db incident list 2>err &&
	test_grep "schema version 99, newer than this sre" err
'

# Root can write anywhere.
test_expect_success NOT_ROOT 'a store that cannot be created is a fatal error' '
	mkdir ro && chmod 500 ro &&
	test_when_finished "chmod 700 ro" &&
	test_expect_code 128 sre --db ro/sub/s.db incident list 2>err &&
	test_grep "ro/sub" err
'

test_done
