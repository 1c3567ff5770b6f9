#!/bin/sh
test_description='sre incident show and list read well: the diagnosis first, a timeline with offsets and totals, a list that fits the terminal'
. "$(dirname "$0")/test-lib.sh"

json_field() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '\$.$2')"
}

# An event as the engines write it (lib/fix-engine.c, lib/scout.c,
# lib/store.c), at a time of our choosing: the timeline of a real fix
# without running one.
add_event() {
	sqlite3 "$SRE_DB" "INSERT INTO events (incident_id, at, kind, actor, body) VALUES ($1, '$2', '$3', 'sre', '$4')"
}

at() {
	SRE_NOW=2026-01-10T$1Z
	export SRE_NOW
}

# On a terminal of $1 columns: script(1) gives sre a pty; what it prints
# comes back with CRLF line ends, which are dropped.
on_tty() {
	cols=$1
	shift
	COLUMNS=$cols NO_COLOR=1 timeout 30 script -qfec "$*" /dev/null >tty.raw &&
	tr -d '\r' <tty.raw
}

test_expect_success SQLITE3 'an incident from detection to resolution, with a fix' '
	at 10:00:00 &&
	sre incident open -s quote-service -t "quote-service answers 503" >id &&
	echo 1 >expect && test_cmp expect id &&
	add_event 1 2026-01-10T10:00:00Z evidence "{\"summary\":\"quote-service answers 503\",\"evidence\":{\"labels\":{\"job\":\"quote\",\"code\":\"503\"},\"active_at\":\"2026-01-10T09:59:15Z\",\"value\":\"0.42\"}}" &&
	at 10:00:05 && sre incident ack 1 2>err &&
	test_grep "incident 1 is now ANALYSIS_IN_PROGRESS" err &&
	add_event 1 2026-01-10T10:03:12Z diagnosed "{\"category\":\"crash\",\"root_cause\":\"quote-service exited: out of memory\",\"confidence\":0.9,\"action\":\"restart\",\"target\":\"quote-service\"}" &&
	at 10:03:12 && sre incident transition 1 analysis-complete &&
	sre incident transition 1 Fix-Generation-In-Progress &&
	sre incident transition 1 fix_generated &&
	add_event 1 2026-01-10T10:04:00Z dry-run "{\"incident\":1,\"action\":\"restart\",\"target\":\"quote-service\",\"params\":{},\"runtime\":\"process\",\"requires_approval\":false,\"diff\":null,\"refused\":false}" &&
	at 10:05:00 && sre incident transition 1 deployment-in-progress &&
	add_event 1 2026-01-10T10:05:00Z action-started "{\"action\":\"restart\",\"target\":\"quote-service\",\"runtime\":\"process\",\"approval\":\"policy\",\"params\":{},\"record\":{\"pidfile\":\"/run/quote.pid\",\"pid\":9999}}" &&
	add_event 1 2026-01-10T10:05:02Z action-finished "{\"result\":\"done\",\"output\":\"quote-service restarted: pid 22789, was 9999\"}" &&
	at 10:06:00 && printf "restart looks good\nerror rate back under 1%%\nwatching" | sre incident comment 1 - &&
	at 10:08:00 && sre incident transition 1 DEPLOYMENT_COMPLETE &&
	sre incident transition 1 verification-in-progress &&
	sre incident transition 1 verification-complete &&
	at 10:10:00 && sre incident resolve 1 2>err &&
	test_grep "incident 1 is now INCIDENT_RESOLVED" err
'

test_expect_success SQLITE3 'show puts the diagnosis first: root cause, confidence, mitigation' '
	sre incident show 1 >out &&
	test_grep "^incident 1  quote-service answers 503$" out &&
	test_grep "^diagnosis$" out &&
	test_grep "^  root cause   quote-service exited: out of memory$" out &&
	test_grep "^  confidence   0.90 (crash)$" out &&
	test_grep "^  mitigation   restart quote-service$" out &&
	d=$(grep -n "^diagnosis$" out | cut -d: -f1) &&
	f=$(grep -n "^service " out | cut -d: -f1) &&
	t=$(grep -n "^timeline" out | cut -d: -f1) &&
	test "$d" -lt "$f" && test "$f" -lt "$t"
'

test_expect_success SQLITE3 'an incident never diagnosed says how to diagnose it' '
	sre incident open -s web -t "web is slow" >id2 &&
	sre incident show "$(cat id2)" >out &&
	test_grep "^  none yet: run .sre diagnose $(cat id2).$" out
'

test_expect_success SQLITE3 'the timeline counts from its first event' '
	sre incident show 1 >out &&
	test_grep "^timeline  from 2026-01-10T10:00:00Z$" out &&
	test_grep "^  +0s  *opened  *tester  *quote-service answers 503 (medium, from manual)$" out &&
	test_grep "^  +5s  *transition  *tester  *INCIDENT_DETECTED -> ANALYSIS_IN_PROGRESS: acknowledged by tester$" out &&
	test_grep "^  +3m12s  *diagnosed  *sre  *crash (confidence 0.90)" out &&
	test_grep "^  +10m  *transition  *tester  *VERIFICATION_COMPLETE -> INCIDENT_RESOLVED: resolved by tester$" out
'

test_expect_success SQLITE3 'an action reads as prose, evidence and plans as a line' '
	sre incident show 1 >out &&
	test_grep "action-started  *sre  *restart quote-service (process, approval: policy)$" out &&
	test_grep "action-finished  *sre  *restart quote-service: pid 9999 -> 22789$" out &&
	test_grep "evidence  *sre  *quote-service answers 503 \[labels (2 fields), active_at=2026-01-10T09:59:15Z, value=0.42\]$" out &&
	test_grep "dry-run  *sre  *plan: restart quote-service (process), allowed by policy$" out &&
	sed -n "/^timeline/,\$p" out >timeline &&
	test_grep ! "[{}\"]" timeline
'

test_expect_success SQLITE3 'the columns line up under the longest kind' '
	sre incident show 1 >out &&
	sed -n "/^timeline/,/^\$/p" out | grep "^  +" >lines &&
	test_line_count -ge 15 lines &&
	# The actor begins at the same column on every line, after the
	# longest kind (action-finished) and two blanks.
	awk "{ print index(\$0, \" tester \") ? index(\$0, \" tester \") : index(\$0, \" sre \") }" lines | sort -u >cols &&
	test_line_count = 1 cols &&
	grep "action-finished" lines >finished &&
	test_line_count = 1 finished &&
	test_grep "  action-finished  sre  *restart" finished &&
	grep "  comment  " lines >comment &&
	test_grep "  comment          tester  restart" comment
'

test_expect_success SQLITE3 'a comment of several lines is indented under its first line' '
	sre incident show 1 >out &&
	first=$(grep "comment  *tester  *restart looks good$" out) &&
	prefix=${first%%restart looks good} &&
	pad=$(printf "%*s" ${#prefix} "") &&
	grep -x "${pad}error rate back under 1%" out &&
	grep -x "${pad}watching" out
'

test_expect_success SQLITE3 'the totals: time to detect, to diagnose, to resolve' '
	sre incident show 1 >out &&
	test_grep "^time to detect 45s, to diagnose 3m12s, to resolve 10m$" out &&
	sre incident show 2 >out2 &&
	test_grep ! "to diagnose\|to detect" out2 &&
	sre incident show --json 1 >json &&
	test "$(json_field json totals.detect)" = 45 &&
	test "$(json_field json totals.diagnose)" = 192 &&
	test "$(json_field json totals.resolve)" = 600 &&
	sre incident show --json 2 >json2 &&
	test "$(json_field json2 "totals.diagnose")" = "" &&
	test "$(sqlite3 :memory: "SELECT json_type(readfile('"'"'json2'"'"'), '"'"'\$.totals.resolve'"'"')")" = null
'

test_expect_success SQLITE3 'show --json keeps its fields, and adds totals only' '
	sre incident show --json 1 >json &&
	sqlite3 :memory: "SELECT group_concat(key, '"'"' '"'"') FROM json_each(readfile('"'"'json'"'"'))" >keys &&
	echo "schema id fingerprint service title severity category state source occurrences opened_at updated_at resolved_at remote_key remote_url events totals" >expect &&
	test_cmp expect keys &&
	test "$(json_field json "events[10].kind")" = action-finished &&
	test "$(json_field json "events[10].body.output")" = "quote-service restarted: pid 22789, was 9999"
'

# ---- list ----

test_expect_success 'setup: long names' '
	unset SRE_NOW &&
	sre incident open -s payments-gateway-eu-west-1-canary -t "p99 latency of the checkout path is above two seconds since the last deploy" >id3 &&
	sre incident open -s "café-ünïcode-service-name-long" -t "naïve title — ünïcode all the way to the end of a long line" >id4
'

test_expect_success 'in a pipe, titles are whole; a long service name ends in an ellipsis' '
	COLUMNS=50 sre incident list >out &&
	test_grep "p99 latency of the checkout path is above two seconds since the last deploy$" out &&
	test_grep "payments-gateway-eu-wes…  " out &&
	test_grep "café-ünïcode-service-na…  " out &&
	test_grep ! "payments-gateway-eu-west-1" out
'

test_expect_success 'on a terminal, titles are cut to its width with an ellipsis' '
	on_tty 100 "sre incident list" >out &&
	test_grep "p99 latency of the .*…$" out &&
	test_grep ! "since the last deploy" out &&
	# wc -L counts what a terminal shows: "…" is one column.
	test "$(wc -L <out)" -le 100 &&
	test "$(wc -L <out)" -ge 95 &&
	on_tty 160 "sre incident list" >wide &&
	test_grep "since the last deploy$" wide
'

test_expect_success 'the width comes from the terminal when COLUMNS is not set' '
	NO_COLOR=1 timeout 30 script -qfec "stty cols 95; unset COLUMNS; sre incident list" /dev/null >raw &&
	tr -d "\r" <raw >out &&
	test_grep "p99 latency .*…$" out &&
	test "$(wc -L <out)" -le 95 &&
	test "$(wc -L <out)" -ge 90
'

test_expect_success 'on a terminal, --json and --porcelain are never cut' '
	on_tty 60 "sre incident list --json" >out &&
	test_grep "since the last deploy\"" out &&
	on_tty 60 "sre incident list --porcelain" >out &&
	test_grep -x "$(cat id3)" out
'

test_expect_success '-o wide adds updated, source, tracker and who acted last' '
	sre incident comment "$(cat id3)" "looking" &&
	sre incident list -o wide >out &&
	test_grep "^ *ID  *STATE  *SEVERITY  *SERVICE  *AGE  *UPDATED  *SOURCE  *TRACKER  *LAST BY  *TITLE$" out &&
	test_grep "^ *$(cat id3)  *INCIDENT_DETECTED  *medium  *payments-gateway-eu-wes…  *[0-9]*[smhd]  *[0-9]*[smhd]  *manual  *-  *tester  *p99 latency" out &&
	test_expect_code 129 sre incident list -o tall 2>err &&
	test_grep "takes .wide." err
'

test_expect_success '--watch needs a terminal: in a pipe it is a usage error' '
	test_expect_code 129 sre incident list --watch >out 2>err &&
	test_grep "watch redraws a terminal" err &&
	! test -s out
'

test_expect_success '--watch redraws the table on a terminal, --count times' '
	on_tty 120 "sre incident list --watch -n 1 --count 2" >out &&
	test "$(grep -c "Every 1s: sre incident list" out)" = 2 &&
	test "$(grep -c "^ *ID  *STATE" out)" = 2 &&
	test "$(grep -c "$(printf "\033\\[H\033\\[2J")" out)" = 2 &&
	test_expect_code 129 sre incident list --watch --json 2>err &&
	test_grep "one at a time" err &&
	test_expect_code 129 sre incident list --count 3 2>err &&
	test_grep "go with --watch" err &&
	on_tty 120 "sre incident list --watch -n 0; echo status=\$?" >out &&
	test_grep "interval takes 1 to 86400 seconds" out &&
	test_grep "^status=129$" out
'

test_expect_success '--watch stops on Ctrl-C' '
	# set -m: a job started with & would ignore SIGINT without job control.
	NO_COLOR=1 timeout 30 script -qfec "set -m; sre incident list --watch -n 1 & pid=\$!; sleep 2; kill -INT \$pid; wait \$pid; echo status=\$?" /dev/null >raw &&
	tr -d "\r" <raw >out &&
	test_grep "Every 1s" out &&
	test_grep "^status=130$" out
'

test_expect_success '--state again accumulates' '
	sre incident list --porcelain --state resolved --state detected >out &&
	printf "1\n2\n$(cat id3)\n$(cat id4)\n" >expect &&
	test_cmp expect out &&
	sre incident list --porcelain --state resolved >out &&
	echo 1 >expect && test_cmp expect out &&
	sre incident list --porcelain --state Detected --service web >out &&
	echo 2 >expect && test_cmp expect out
'

test_done
