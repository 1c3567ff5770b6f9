#!/bin/sh
test_description='sre incident: states easy to type, shortcuts, suggestions, --json results, one exit code for a missing incident'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-complete.sh"

json_field() {
	sqlite3 :memory: "SELECT json_extract(readfile('$1'), '\$.$2')"
}

state_of() {
	sre incident show --json "$1" >state.json &&
	json_field state.json state
}

test_expect_success 'a missing incident exits 1 from every command that takes an id, with no store' '
	for c in "incident show 7" "incident transition 7 resolved" "incident comment 7 hi" \
		 "incident ack 7" "incident resolve 7" "incident close 7" \
		 "diagnose 7" "fix 7" "fix --dry-run 7" "fix --status 7"; do
		test_expect_code 1 sre $c >out 2>err &&
		test_grep "no incident 7" err &&
		! test -s out || return 1
	done &&
	! test -e "$SRE_DB"
'

test_expect_success 'a missing incident exits 1 from every command that takes an id, with a store' '
	sre incident open -s api -t "5xx on /pay" >id &&
	for c in "incident show 7" "incident transition 7 resolved" "incident comment 7 hi" \
		 "incident ack 7" "incident resolve 7" "incident close 7" \
		 "diagnose 7" "fix 7" "fix --dry-run 7" "fix --status 7" "diagnose --json 7"; do
		test_expect_code 1 sre $c >out 2>err &&
		test_grep "no incident 7" err || return 1
	done
'

test_expect_success 'states are typed by their short names, in any case' '
	sre incident transition 1 analysis-in-progress &&
	test "$(state_of 1)" = ANALYSIS_IN_PROGRESS &&
	sre incident transition 1 Analysis_Complete &&
	test "$(state_of 1)" = ANALYSIS_COMPLETE &&
	sre incident transition --from analysis-complete 1 requires-human &&
	test "$(state_of 1)" = INCIDENT_REQUIRES_HUMAN &&
	sre incident transition 1 detected &&
	test "$(state_of 1)" = INCIDENT_DETECTED
'

test_expect_success 'a typo of a state suggests the nearest one' '
	test_expect_code 129 sre incident transition 1 resovled 2>err &&
	test_grep "error: .resovled. is not an incident state; did you mean resolved (INCIDENT_RESOLVED)?" err &&
	test_expect_code 129 sre incident list --state anlysis-complete 2>err &&
	test_grep "did you mean analysis-complete (ANALYSIS_COMPLETE)?" err &&
	test_expect_code 129 sre incident transition 1 FIXED 2>err &&
	test_grep ! "did you mean" err &&
	test_grep "the states are:" err &&
	test "$(state_of 1)" = INCIDENT_DETECTED
'

test_expect_success 'ack takes up a new incident; from elsewhere it refuses as the transition does' '
	sre incident ack 1 2>err &&
	test_grep "incident 1 is now ANALYSIS_IN_PROGRESS" err &&
	sre incident show --json 1 >out &&
	test "$(json_field out "events[5].body.reason")" = "acknowledged by tester" &&
	test_expect_code 1 sre incident ack 1 2>ack.err &&
	test_expect_code 1 sre incident transition 1 ANALYSIS_IN_PROGRESS 2>tr.err &&
	test_cmp tr.err ack.err &&
	test_grep "incident 1 cannot go from ANALYSIS_IN_PROGRESS to ANALYSIS_IN_PROGRESS" ack.err
'

test_expect_success 'resolve and close end an incident, with a reason of their own or the one given' '
	sre incident resolve --reason "went away" 1 &&
	test "$(state_of 1)" = INCIDENT_RESOLVED &&
	sre incident show --json 1 >out &&
	test "$(json_field out "events[6].body.reason")" = "went away" &&
	test_expect_code 1 sre incident close 1 2>err &&
	test_grep "cannot go from INCIDENT_RESOLVED to INCIDENT_RESOLVED" err &&
	sre incident open -s api -t "disk full" >id2 &&
	sre incident close "$(cat id2)" &&
	sre incident show --json "$(cat id2)" >out &&
	test "$(json_field out state)" = INCIDENT_RESOLVED &&
	test "$(json_field out "events[1].body.reason")" = "closed by tester"
'

test_expect_success 'a shortcut that is illegal from the current state changes nothing' '
	sre incident open -s db -t "replication lag" >id3 &&
	for s in FIX_GENERATION_IN_PROGRESS FIX_GENERATED DEPLOYMENT_IN_PROGRESS; do
		sre incident transition "$(cat id3)" analysis-in-progress 2>/dev/null
		sre incident transition "$(cat id3)" analysis-complete 2>/dev/null
		sre incident transition "$(cat id3)" $s || return 1
	done &&
	test_expect_code 1 sre incident resolve "$(cat id3)" 2>err &&
	test_grep "cannot go from DEPLOYMENT_IN_PROGRESS to INCIDENT_RESOLVED" err &&
	test "$(state_of "$(cat id3)")" = DEPLOYMENT_IN_PROGRESS
'

test_expect_success 'a subcommand typo suggests the subcommand' '
	test_expect_code 129 sre incident ls >out 2>err &&
	test_grep "unknown subcommand .ls. of sre incident" err &&
	test_grep -A1 "The most similar subcommand is" err >near &&
	test_grep "^	list$" near &&
	test_expect_code 129 sre incident shwo 2>err &&
	test_grep -A1 "most similar subcommand is" err >near &&
	test_grep "^	show$" near &&
	test_expect_code 129 sre incident xyzzy 2>err &&
	test_grep "unknown subcommand" err &&
	test_grep ! "most similar" err &&
	! test -s out
'

test_expect_success SQLITE3 'open --json prints the incident and whether it is new' '
	sre incident open --json -s cache -t "evictions" >out &&
	test "$(sqlite3 :memory: "SELECT json_valid(readfile('"'"'out'"'"'))")" = 1 &&
	test "$(json_field out service)" = cache &&
	test "$(json_field out state)" = INCIDENT_DETECTED &&
	test "$(json_field out created)" = 1 &&
	id=$(json_field out id) &&
	sre incident open --json -s cache -t "evictions" >again 2>err &&
	test "$(json_field again id)" = "$id" &&
	test "$(json_field again created)" = 0 &&
	test "$(json_field again occurrences)" = 2 &&
	echo "$id" >cache.id
'

test_expect_success SQLITE3 'transition, ack and comment --json print the event they added' '
	id=$(cat cache.id) &&
	sre incident ack --json "$id" >out 2>err &&
	test "$(json_field out incident)" = "$id" &&
	test "$(json_field out kind)" = transition &&
	test "$(json_field out actor)" = tester &&
	test "$(json_field out body.to)" = ANALYSIS_IN_PROGRESS &&
	test "$(json_field out body.from)" = INCIDENT_DETECTED &&
	sre incident transition --json --reason "rules ran" "$id" analysis-complete >out &&
	test "$(json_field out body.reason)" = "rules ran" &&
	test -n "$(json_field out at)" &&
	printf "two\nlines" | sre incident comment --json "$id" - >out &&
	test "$(json_field out kind)" = comment &&
	test "$(json_field out body.text)" = "two${LF}lines" &&
	test "$(sqlite3 :memory: "SELECT json_type(readfile('"'"'out'"'"'))")" = object &&
	test_expect_code 1 sre incident transition --json "$id" PR_MERGED >out 2>err &&
	! test -s out
'

test_expect_success 'the next states of an incident, for completion' '
	id=$(cat cache.id) &&
	sre incident --next-states "$id" >out &&
	printf "FIX_GENERATION_IN_PROGRESS\nINCIDENT_RESOLVED\nINCIDENT_REQUIRES_HUMAN\n" >expect &&
	test_cmp expect out &&
	sre incident --next-states >all &&
	test_line_count = 16 all &&
	sre incident --next-states 999 >none &&
	test_cmp all none
'

test_expect_success BASH 'bash completion offers only the legal next states, in the spelling begun' '
	id=$(cat cache.id) &&
	complete_bash sre incident transition "$id" "" >out &&
	printf "FIX_GENERATION_IN_PROGRESS\nINCIDENT_RESOLVED\nINCIDENT_REQUIRES_HUMAN\n" >expect &&
	test_cmp expect out &&
	complete_bash sre incident transition "$id" re >out &&
	printf "resolved\nrequires-human\n" >expect &&
	test_cmp expect out &&
	# Incident 1 is resolved: it goes nowhere.
	complete_bash sre incident transition 1 "" >out &&
	test -z "$(cat out)" &&
	complete_bash sre incident list --state=ana >out &&
	printf "analysis-in-progress\nanalysis-complete\n" >expect &&
	test_cmp expect out &&
	complete_bash sre incident res >out &&
	echo resolve >expect &&
	test_cmp expect out
'

test_done
