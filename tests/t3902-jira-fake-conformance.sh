#!/bin/sh
test_description='the fake JIRA answers with every key of the recorded JIRA objects'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

# jira-cli's test data and the examples of Atlassian's OpenAPI document
# (see SOURCES.md there). jira-cli/search.json is left out: it predates the
# enhanced search, mixing /search's "expand" with /search/jql's "isLast";
# search_page*.json are its /search/jql recordings.
need_fixtures jira
need_command python3 "no python3 for the fake JIRA"

cat >conform.py <<-\EOT
import base64, json, os, sys, urllib.error, urllib.request
sys.path.insert(0, os.environ["FAKES_DIR"])
import conform

url, fixtures, kind = sys.argv[1:4]
AUTH = "Basic " + base64.b64encode(b"bot@example.com:test-token").decode()
ADF = {"type": "doc", "version": 1, "content": [
    {"type": "paragraph", "content": [{"type": "text", "text": "Checkout is slow."}]}]}
# Names only the spec's example uses; Cloud sends "watches" and "subtasks".
NOT_MODELLED = {"watcher", "sub-tasks"}

def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or "null")

def new_issue(**extra):
    return call("POST", "/rest/api/3/issue", dict(fields={
        "project": {"key": "OPS"}, "summary": "conformance", "issuetype": {"name": "Incident"},
        "labels": ["sre"], "description": ADF}, **extra))

def missing(rec, got):
    """Keys of rec that got lacks; lists by their first items. An empty
    object in got is a map with no data here (a screen's fields)."""
    return conform.missing(rec, got, sep="/", each="[]", skip=NOT_MODELLED,
                           empty_is_map=True)

checks = []
if kind == "create":
    checks.append((["jira-cli/create.json", "openapi/examples/post_issue.response_201.json"],
                   new_issue(transition={"id": "21"})))
elif kind == "issue":
    key = new_issue()["key"]
    checks.append((["jira-cli/issue.json", "jira-cli/issue-1.json", "jira-cli/issue-2.json",
                    "openapi/examples/get_issue_issueIdOrKey.response_200.json"],
                   call("GET", "/rest/api/3/issue/" + key)))
elif kind == "search":
    new_issue(), new_issue()
    jql = {"jql": "project = OPS ORDER BY created ASC", "fields": ["*all"]}
    checks.append((["jira-cli/search_page1.json", "jira-cli/search_page2_mid.json"],
                   call("POST", "/rest/api/3/search/jql", dict(jql, maxResults=1))))
    checks.append((["jira-cli/search_page2.json", "jira-cli/search_page3.json",
                    "jira-cli/search_empty.json", "openapi/examples/post_search_jql.response_200.json"],
                   call("POST", "/rest/api/3/search/jql", dict(jql, maxResults=100))))
    checks.append((["openapi/examples/get_search_jql.response_200.json"],
                   call("GET", "/rest/api/3/search/jql?jql=project%20%3D%20OPS&fields=*all")))
elif kind == "transitions":
    key = new_issue()["key"]
    checks.append((["jira-cli/transitions.json",
                    "openapi/examples/get_issue_issueIdOrKey_transitions.response_200.json"],
                   call("GET", "/rest/api/3/issue/%s/transitions?expand=transitions.fields" % key)))
elif kind == "comment":
    key = new_issue()["key"]
    request = json.load(open(os.path.join(fixtures, "openapi/examples/post_issue_issueIdOrKey_comment.request.json")))
    checks.append((["openapi/examples/post_issue_issueIdOrKey_comment.response_201.json"],
                   call("POST", "/rest/api/3/issue/%s/comment" % key, request)))
    checks.append((["openapi/examples/get_issue_issueIdOrKey_comment.response_200.json"],
                   call("GET", "/rest/api/3/issue/%s/comment" % key)))
elif kind == "assign":
    # PUT .../assignee answers 204 without a body; an account the site
    # does not know is an error shaped like a recorded one.
    key = new_issue()["key"]
    me = call("GET", "/rest/api/3/myself")["accountId"]
    assert call("PUT", "/rest/api/3/issue/%s/assignee" % key, {"accountId": me}) is None
    got = call("GET", "/rest/api/3/issue/%s?fields=assignee" % key)["fields"]["assignee"]
    assert got["accountId"] == me, got
    checks.append((["jira-cli/myself.json"], got))
    try:
        call("PUT", "/rest/api/3/issue/%s/assignee" % key, {"accountId": "5b10ac8d82e05b22cc7d4ef5"})
        sys.exit("an unknown accountId was taken")
    except urllib.error.HTTPError as e:
        assert e.code in (400, 404), e.code
        checks.append((["openapi/examples/post_issue.response_400.json"], json.load(e)))
failed = 0
for names, got in checks:
    for name in names:
        for path in missing(json.load(open(os.path.join(fixtures, name))), got):
            print("%s: the fake lacks %s" % (name, path))
            failed = 1
sys.exit(failed)
EOT

start_fake jira >fake.err 2>&1

test_expect_success 'the fake JIRA starts' '
	if test -z "$FAKE_URL"; then cat fake.err; false; fi
'

for kind in create issue search transitions comment assign; do
	test_expect_success "$kind: every recorded key is in the fake's answer" "
		python3 conform.py \"\$FAKE_URL\" \"\$FIXTURES\" $kind
	"
done

test_expect_success 'the checker itself finds a missing key' '
	python3 -c "import sys; sys.argv[1:] = [\"u\", \"f\", \"none\"]; exec(open(\"conform.py\").read().replace(\"sys.exit(failed)\", \"\"));
assert missing({\"a\": {\"b\": 1}, \"c\": [{\"d\": 1}]}, {\"a\": {\"x\": 1}, \"c\": [{}]}) == [\"/a/b\", \"/c[]/d\"]"
'

stop_fake
test_done
