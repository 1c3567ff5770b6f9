#!/bin/sh
test_description='the fake GitHub answers with the keys of recorded api.github.com traffic'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

need_fixtures github

# conform RECORDED METHOD PATH [BODY]: every key of the recorded object
# (nested objects too, and the first item of lists) is in the fake's answer
# to METHOD PATH; RECORDED is "file:python expression on the loaded JSON".
conform() {
	python3 - "$FIXTURES" "$FAKE_URL" "$@" <<-\EOT
	import json, os, sys, urllib.error, urllib.request
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	fixtures, url, recorded, method, path = sys.argv[1:6]
	body = sys.argv[6].encode() if len(sys.argv) > 6 else None
	file, expr = recorded.split(":", 1)
	want = eval(expr, {"d": json.load(open(fixtures + "/" + file))})
	req = urllib.request.Request(url + path, data=body, method=method,
	                             headers={"Authorization": "Bearer test-token"})
	try:
	    got = json.load(urllib.request.urlopen(req, timeout=10))
	except urllib.error.HTTPError as e:
	    got = json.load(e)
	lacking = missing(want, got)
	if lacking:
	    print("missing in the fake's answer:", ", ".join(lacking))
	    sys.exit(1)
	EOT
}

start_fake github --per-page 2 || exit 1

test_expect_success 'an issue has the keys of a recorded one' '
	conform "octokit-fixtures/add-labels-to-issue/normalized-fixture.json:d[0][\"response\"]" \
		POST /repos/acme/shop/issues "{\"title\":\"t\",\"labels\":[\"bug\"]}" &&
	conform "octokit-fixtures/paginate-issues/normalized-fixture.json:d[0][\"response\"]" \
		GET "/repos/acme/shop/issues?labels=bug"
'

# check_assignees: no recording assigns anyone, so each assignee of the
# answer to POST .../assignees must be an account like a recorded issue's
# author; and a login that may not be assigned is dropped without a word.
check_assignees() {
	python3 - "$FIXTURES" "$FAKE_URL" <<-\EOT
	import json, os, sys, urllib.request
	sys.path.insert(0, os.environ["FAKES_DIR"])
	from conform import missing
	fixtures, url = sys.argv[1:3]
	rec = json.load(open(fixtures + "/octokit-rb-cassettes/decoded/Issues__issue__returns_an_issue.json"))
	author = rec[2]["response_body"]["user"]
	req = urllib.request.Request(url + "/repos/acme/shop/issues/1/assignees", method="POST",
	                             data=b'{"assignees": ["bob", "mallory"]}',
	                             headers={"Authorization": "Bearer test-token"})
	with urllib.request.urlopen(req, timeout=10) as r:
	    assert r.status == 201, r.status
	    got = json.load(r)
	logins = [a["login"] for a in got["assignees"]]
	assert logins == ["alice", "bob"], logins
	assert got["assignee"]["login"] == "alice", got["assignee"]
	for who in got["assignees"] + [got["assignee"]]:
	    lacking = missing(author, who)
	    assert not lacking, "an assignee lacks " + ", ".join(lacking)
	EOT
}

test_expect_success 'adding an assignee answers an issue with the keys of a recorded one' '
	conform "octokit-rb-cassettes/decoded/Issues__issue__returns_an_issue.json:d[2][\"response_body\"]" \
		POST /repos/acme/shop/issues/1/assignees "{\"assignees\":[\"alice\"]}" &&
	check_assignees
'

test_expect_success 'a label has the keys of a recorded one' '
	conform "octokit-fixtures/labels/normalized-fixture.json:d[1][\"response\"]" \
		POST /repos/acme/shop/labels "{\"name\":\"test-label\",\"color\":\"663399\"}" &&
	conform "octokit-fixtures/add-labels-to-issue/normalized-fixture.json:d[1][\"response\"]" \
		POST /repos/acme/shop/issues/1/labels "{\"labels\":[\"Foo\"]}"
'

test_expect_success 'a comment has the keys of a recorded one' '
	conform "octokit-rb-cassettes/decoded/Issues__add_comment__adds_a_comment.json:[x for x in d if x[\"uri\"].endswith(\"/comments\")][0][\"response_body\"]" \
		POST /repos/acme/shop/issues/1/comments "{\"body\":\"hello\"}" &&
	conform "octokit-rb-cassettes/decoded/Issues__issue_comments__returns_comments_for_an_issue.json:d[0][\"response_body\"]" \
		GET /repos/acme/shop/issues/1/comments
'

test_expect_success 'an error has the keys of a recorded one' '
	conform "octokit-fixtures/errors/normalized-fixture.json:d[0][\"response\"]" \
		POST /repos/acme/shop/labels "{\"name\":\"foo\",\"color\":\"invalid\"}" &&
	conform "octokit-fixtures/errors/normalized-fixture.json:d[0][\"response\"]" \
		POST /repos/acme/shop/labels "{\"name\":\"test-label\",\"color\":\"663399\"}"
'

# check_page: five issues, then page 2 of 2 a page must carry GitHub's
# headers and a Link header shaped like paginate-issues' own.
check_page() {
	python3 - "$FAKE_URL" <<-\EOT
	import re, sys, urllib.request
	url, auth = sys.argv[1], {"Authorization": "token test-token"}
	for i in range(5):
	    urllib.request.urlopen(urllib.request.Request(
	        url + "/repos/acme/pages/issues", data=b'{"title": "t"}', headers=auth))
	h = urllib.request.urlopen(urllib.request.Request(
	    url + "/repos/acme/pages/issues?per_page=2&page=2", headers=auth)).headers
	for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
	             "X-RateLimit-Used", "X-RateLimit-Resource", "X-GitHub-Request-Id"):
	    assert h.get(name), name + " is missing"
	assert h["Content-Type"] == "application/json; charset=utf-8", h["Content-Type"]
	rels = re.findall(r'<([^>]*)>; rel="(\w+)"', h["Link"])
	assert [r for _, r in rels] == ["prev", "next", "last", "first"], h["Link"]
	for u, _ in rels:
	    assert re.search(r"/repositories/\d+/issues\?per_page=2&page=\d$", u), u
	EOT
}

# check_401: a wrong token gets GitHub's 401.
check_401() {
	python3 - "$FAKE_URL" <<-\EOT
	import json, sys, urllib.error, urllib.request
	req = urllib.request.Request(sys.argv[1] + "/repos/acme/shop/issues",
	                             headers={"Authorization": "Bearer nope"})
	try:
	    urllib.request.urlopen(req, timeout=10)
	    sys.exit("no error")
	except urllib.error.HTTPError as e:
	    assert e.code == 401 and json.load(e)["message"] == "Bad credentials"
	EOT
}

test_expect_success 'a page has the headers GitHub sends, and a Link like its own' '
	check_page
'

test_expect_success 'a wrong token gets 401 Bad credentials' '
	check_401
'

stop_fake
test_done
