#!/bin/sh
test_description='sre escalate on a shared tracker: the ticket given to the on-call, Slack naming them, and one architecture follow-up per chronic problem across hosts'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

TOKEN=ghp_escalate0123456789secret
GITHUB_TOKEN=$TOKEN; export GITHUB_TOKEN

start_fake slack || { echo "Bail out! the fake Slack did not start"; exit 1; }
SLACK_LOG=$FAKE_LOG SLACK_PID=$FAKE_PID
SLACK_WEBHOOK_URL="$FAKE_URL/services/T0001/B0001/hooksecret0123456789"; export SLACK_WEBHOOK_URL
start_fake github --token "$TOKEN" || { echo "Bail out! the fake GitHub did not start"; exit 1; }

# issues [LABEL]: the fake's issues (carrying LABEL), open or closed: number, state, title, a line each.
issues() {
	python3 - "$FAKE_URL" "${1:-}" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	for i in state["acme/shop"]["issues"]:
	    if not sys.argv[2] or sys.argv[2] in [l["name"] for l in i["labels"]]:
	        print(i["number"], i["state"], i["title"])
	EOT
}

# issue N FIELD: a field of issue N as the fake holds it (labels and assignees: names, a line each).
issue() {
	python3 - "$FAKE_URL" "$1" "$2" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	for i in state["acme/shop"]["issues"]:
	    if str(i["number"]) == sys.argv[2]:
	        v = i[sys.argv[3]]
	        if isinstance(v, list):
	            v = "\n".join(sorted(x["name"] if "name" in x else x["login"] if "login" in x else str(x)
	                                 for x in v))
	        print(v)
	EOT
}

# comments N: the bodies of issue N's comments, one block each.
comments() {
	python3 - "$FAKE_URL" "$1" <<-\EOT
	import json, sys, urllib.request
	state = json.load(urllib.request.urlopen(sys.argv[1] + "/_fake/state", timeout=5))
	for c in state["acme/shop"]["comments"].get(sys.argv[2], []):
	    print(c["body"])
	EOT
}

# close N: a person closes issue N on GitHub.
close() {
	python3 - "$FAKE_URL" "$1" "$TOKEN" <<-\EOT
	import json, sys, urllib.request
	req = urllib.request.Request(sys.argv[1] + "/repos/acme/shop/issues/" + sys.argv[2],
	                             data=json.dumps({"state": "closed"}).encode(), method="PATCH",
	                             headers={"Authorization": "Bearer " + sys.argv[3],
	                                      "Content-Type": "application/json"})
	urllib.request.urlopen(req, timeout=5).read()
	EOT
}

# other ARGS...: sre on another host sharing the tracker (its own store).
other() {
	sre --db "$TRASH_DIRECTORY/other.db" "$@"
}

# alone ARGS...: sre with no tracker, on a store of its own.
alone() {
	sre --db "$TRASH_DIRECTORY/alone.db" -c tracker.kind=local "$@"
}

# remote ID [SRE]: the number of incident ID's issue (as sre, or other, sees it).
remote() {
	${2:-sre} incident show --json "$1" | sed -n "s/.*\"remote_key\":[[:space:]]*\"\([0-9]*\)\".*/\1/p"
}

# recur SRE DAY...: the same problem opened on each DAY (of March 2027) and resolved by a restart an hour later.
recur() {
	how=$1 && shift &&
	for day in "$@"
	do
		id=$(SRE_NOW=2027-03-${day}T08:00:00Z $how incident open --service cart --fingerprint cart-oom \
			--title "cart OOM killed, password=chronic-canary-41" --severity high) &&
		SRE_NOW=2027-03-${day}T09:00:00Z $how incident resolve --reason "restarted" "$id" >/dev/null &&
		echo "$id" || return 1
	done
}

test_expect_success 'setup: GitHub as the tracker, a policy with Slack, the ticket and an assignee' '
	cat >>"$XDG_CONFIG_HOME/sre/config" <<-EOT
	[tracker]
		kind = github
	[github]
		api = $FAKE_URL
		repo = acme/shop
	[http]
		retry-base = 10ms
		retries = 1
	[escalation "day"]
		level = slack tracker assignee:mona
	[escalate]
		policy = day
	EOT
'

test_expect_success 'the ticket is given to the on-call, labelled, and Slack names who is on call' '
	sre incident open --service pay --title "payments fail" >id1 &&
	sre escalate --reason "the rules found nothing" "$(cat id1)" >out &&
	grep "paged level 1 of day (slack tracker assignee:mona): the rules found nothing" out &&
	n=$(remote "$(cat id1)") && test -n "$n" &&
	test "$(issue "$n" assignees)" = mona &&
	issue "$n" labels >labels &&
	grep "^Needs Human Intervention$" labels &&
	comments "$n" >said &&
	grep "Escalated to mona: the rules found nothing" said &&
	grep "on call: mona (level 1 of day): the rules found nothing" "$SLACK_LOG"
'

test_expect_success 'an @name in a reason pages nobody on GitHub; an e-mail address stays as it is' '
	sre incident open --service auth --title "auth fails" >id9 &&
	sre escalate --reason "ask @oncall-lead or ops@example.com" "$(cat id9)" >out &&
	comments "$(remote "$(cat id9)")" >said &&
	grep "^Escalated to mona: " said >prose &&
	grep -F "ask @$(printf "\342\200\213")oncall-lead or ops@example.com" prose &&
	! grep -F "@oncall-lead" prose
'

test_expect_success '--dry-run says whom it would assign, and assigns nobody' '
	sre incident open --service mail --title "mail stuck" >id2 &&
	sre sync &&
	sre escalate --dry-run "$(cat id2)" >out &&
	grep "github: assign mona" out &&
	grep "slack: \"on call: mona (level 1 of day): escalated by hand\"" out &&
	test -z "$(issue "$(remote "$(cat id2)")" assignees)"
'

test_expect_success 'an account GitHub will not assign: that write fails, named; the rest lands' '
	sre incident open --service dns --title "dns flaps" >id3 &&
	test_expect_code 1 sre -c escalation.ghost.level="tracker assignee:ghost-user" \
		escalate --policy ghost "$(cat id3)" >out 2>err &&
	grep "ghost-user" err &&
	sre sync --status >queued &&
	grep "github *assign *failed" queued &&
	n=$(remote "$(cat id3)") &&
	issue "$n" labels >labels &&
	grep "^Needs Human Intervention$" labels &&
	test -z "$(issue "$n" assignees)"
'

test_expect_success 'a bad assignee in a policy is refused before anything is sent' '
	test_expect_code 128 sre -c escalation.bad.level="tracker assignee:a;rm" escalate --policy bad "$(cat id3)" 2>err &&
	grep "is no target" err
'

test_expect_success 'setup: a problem that came back three times in a week, and a repository' '
	recur sre 01 02 03 >ids &&
	test_line_count = 3 ids &&
	git init -q repo &&
	mkdir repo/cart &&
	echo "memory: 256Mi" >repo/cart/deploy.yaml &&
	git -C repo add cart &&
	GIT_AUTHOR_DATE=2027-03-02T10:00:00Z GIT_COMMITTER_DATE=2027-03-02T10:00:00Z \
		git -C repo -c user.name="Ada Lovelace" -c user.email=ada@example.com \
		commit -q -m "cart: cache every cart in memory" &&
	sre config set --global core.repo "$TRASH_DIRECTORY/repo" &&
	sre config set --global service.cart.paths cart/
'

test_expect_success '--dry-run shows the follow-up and its brief, and opens nothing' '
	SRE_NOW=2027-03-03T12:00:00Z sre escalate --auto --dry-run >out &&
	grep "chronic: would open an architecture follow-up labelled jules-fix: Chronic: cart: " out &&
	grep "on github, marker sre-chronic-" out &&
	test -z "$(issues jules-fix)"
'

test_expect_success '--auto opens one follow-up, labelled, with the brief, linked from each occurrence' '
	SRE_NOW=2027-03-03T12:00:00Z sre escalate --auto >out &&
	grep "chronic: opening an architecture follow-up labelled jules-fix" out &&
	issues jules-fix >followups &&
	test_line_count = 1 followups &&
	f=$(cut -d" " -f1 followups) && echo "$f" >followup &&
	grep "^$f open Chronic: cart: cart OOM killed" followups &&
	issue "$f" labels >labels &&
	grep "^sre-chronic-[0-9a-f]\{12\}$" labels &&
	issue "$f" body >brief &&
	for section in "## Occurrences" "## In common" "## Code paths from the traces" \
		"## Recent changes to the service" "## A question for the owners"
	do
		grep "^$section" brief || return 1
	done &&
	grep "came back 3 times within 7d" brief &&
	grep "restarted | 23h, until #" brief &&
	grep "The fingerprint: cart-oom" brief &&
	grep -F "Ada Lovelace \<ada@example.com>: cart: cache every cart in memory" brief &&
	grep -F "Ada Lovelace \<ada@example.com>: 1 commit" brief &&
	! grep chronic-canary-41 brief &&
	while read id
	do
		comments "$(remote "$id")" >said &&
		grep "architecture follow-up is .*/issues/$f" said || return 1
	done <ids &&
	sre incident show "$(tail -n 1 ids)" >show &&
	grep "architecture follow-up opened on github $f" show
'

test_expect_success 'run again, and again: nothing more is opened or said' '
	SRE_NOW=2027-03-03T12:05:00Z sre escalate --auto >out 2>err &&
	! grep chronic out &&
	grep "warning: the policy \"ghost\" of an escalation under way is no longer configured" err &&
	SRE_NOW=2027-03-04T12:00:00Z sre escalate --auto >out &&
	! grep chronic out &&
	test_line_count = 1 followups &&
	issues jules-fix >now && test_cmp followups now &&
	comments "$(remote "$(head -n 1 ids)")" >said &&
	test "$(grep -c "^This problem keeps coming back: the architecture follow-up is" said)" = 1
'

test_expect_success 'another host sharing the tracker adopts it, even closed, and opens none' '
	close "$(cat followup)" &&
	recur other 04 05 06 >other-ids &&
	test_line_count = 3 other-ids &&
	SRE_NOW=2027-03-06T12:00:00Z other escalate --auto >out &&
	grep "chronic: opening an architecture follow-up" out &&
	issues jules-fix >followups2 &&
	test_line_count = 1 followups2 &&
	grep "^$(cat followup) closed " followups2 &&
	other incident show "$(tail -n 1 other-ids)" >show &&
	grep "architecture follow-up adopted on github $(cat followup)" show &&
	comments "$(remote "$(head -n 1 other-ids)" other)" >said &&
	grep "architecture follow-up is .*/issues/$(cat followup)" said
'

test_expect_success 'a hostile title is quoted, not obeyed, in the brief' '
	for day in 10 11 12
	do
		id=$(SRE_NOW=2027-03-${day}T08:00:00Z sre incident open --service search --fingerprint evil \
			--title "x](http://evil.example) <img src=y> # heading @admin" --severity low) &&
		SRE_NOW=2027-03-${day}T09:00:00Z sre incident resolve --reason "restarted" "$id" >/dev/null ||
		return 1
	done &&
	SRE_NOW=2027-03-12T12:00:00Z sre escalate --auto >out &&
	f=$(issues jules-fix | sed -n "s/^\([0-9]*\) open Chronic: search.*/\1/p") &&
	test -n "$f" &&
	issue "$f" body >brief &&
	grep -F "x\](http://evil.example) \<img src=y> \# heading @$(printf "\342\200\213")admin" brief &&
	! grep -F "@admin" brief &&
	! grep "[^\\]<img" brief &&
	! grep "[^\\]](http://evil" brief
'

test_expect_success 'without a tracker the brief is kept in the store; chronic-after 0 turns it off' '
	recur alone 01 02 03 >alone-ids &&
	id=$(tail -n 1 alone-ids) &&
	SRE_NOW=2027-03-03T12:00:00Z alone -c escalate.chronic-after=0 escalate --auto >out &&
	! grep chronic out &&
	SRE_NOW=2027-03-03T12:00:00Z alone escalate --auto >out &&
	grep "no tracker (tracker.kind): the brief is kept in incident $id" out &&
	alone incident show --json "$id" >show.json &&
	grep "## A question for the owners" show.json
'

test_expect_success 'a bad architect label or chronic-after is said, with its key' '
	test_expect_code 128 sre -c escalate.architect-label="needs work" escalate --auto 2>err &&
	grep "escalate.architect-label" err &&
	test_expect_code 128 sre -c escalate.chronic-after=1 escalate --auto 2>err &&
	grep "escalate.chronic-after takes 0 (never) or a number from 2" err
'

kill "$SLACK_PID" 2>/dev/null
stop_fake
test_done
