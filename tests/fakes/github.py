#!/usr/bin/env python3
"""github.py: a fake GitHub REST API for sre's tests, standard library only.

    python3 tests/fakes/github.py --port-file F --log F [--lifetime SECONDS]
                                  [--token T] [--user-token LOGIN=T]... [--per-page N]

It listens on 127.0.0.1 (a free port, written to --port-file once it
listens), keeps repositories, issues, pull requests, labels and comments in
memory, and answers the endpoints sre uses with objects shaped field for
field on recorded api.github.com traffic (octokit's fixtures): the same
keys, the same errors ("Validation Failed" with errors[], "Bad
credentials", "Label does not exist", "Not Found"), the same headers
(X-RateLimit-*, X-GitHub-Request-Id, a Link header for pages). Every
repository named in a path exists; GitHub Enterprise's /api/v3 prefix and
the /repositories/<id> form GitHub uses in Link headers both work.

Every request but the /_fake/ ones is appended to --log as one JSON line:
{"method", "path" (as received, still percent-encoded), "query" (the raw
query string), "headers" (lower-case names), "body" (text)}.

Pull requests are issues with more to them, as on GitHub: they share the
issue numbers, show in the issue list (with "pull_request"), and have their
own endpoints: POST and GET /pulls (filters state, head "owner:branch",
base; pages), GET and PATCH /pulls/<n>, PUT /pulls/<n>/merge and GET
/pulls/<n>/reviews. The fake cannot know git refs: any non-empty head and
base will do, but one head and base take one open pull request (GitHub's
422 "A pull request already exists for owner:branch.").

--token is sre's own token, acting as the account "sre-bot" (GET /user
answers it); each --user-token LOGIN=T is another account's, so a test can
write a comment as a person (or an attacker) would: comments, issues and
labels are written as the account whose token made the request.

Control endpoints, for tests:
    POST /_fake/fail  {"method": "POST", "path": "<regex>", "status": 500, "after": false,
                       "headers": {...}, "body": "<text or JSON>", "times": 1}
                      the next `times` matching requests get that answer
    POST /_fake/recover  drop every queued failure: the outage is over
    POST /_fake/pull  {"repo": "o/r", "number": n, "action": ..., "user": "login"}
                      what people do on GitHub to a pull request: "request_review"
                      (of "user", or of a "team"), "review" ("state": APPROVED,
                      CHANGES_REQUESTED or COMMENTED; "body"), "dismiss" (the user's
                      standing verdict), "merge", "close", "reopen"; answers the
                      pull request
    POST /_fake/assignable  {"repo": "o/r", "add": [logins], "remove": [logins]}
                      who may be assigned issues of the repository (its collaborators);
                      answers {"assignable": [...]}. At first: the owner, sre-bot, every
                      --user-token account and the collaborators alice, bob and mona
    GET /_fake/state  every repository's issues, comments and labels, its pulls and
                      their reviews, and who may be assigned

Assignees are as GitHub keeps them: POST /issues/<n>/assignees adds the
logins that may be assigned and silently drops the others (201 with the
issue, its assignees unchanged), DELETE removes them; creating or editing
an issue with an assignee who may not be assigned is 422 (field
"assignees", code "invalid", with the "value"); GET /assignees lists who
may be, GET /assignees/<login> is 204 or 404.

It exits after --lifetime seconds (default 120) or on SIGTERM.
"""
import base64
import hashlib
import json
import os
import re
import sys
import threading
import time
from urllib.parse import parse_qsl, quote, unquote

import fakeserver  # the command line, life and request machinery every fake shares
from fakeserver import Answer

DOCS = "https://docs.github.com/rest"
PULL_DOCS = DOCS + "/pulls/pulls"
DEFAULT_BRANCH = "main"
VERDICTS = ("APPROVED", "CHANGES_REQUESTED")
BOT = "sre-bot"
COLLABORATORS = ("alice", "bob", "mona")  # mona: GitHub's own example account
DEFAULT_LABELS = [
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("question", "d876e3", "Further information is requested"),
]

args = None
repos = {}          # "owner/name" -> repository state
repo_ids = {}       # id -> "owner/name"
counters = {"id": 1000, "requests": 0}


def error(status, message, doc=DOCS, errors=None, status_field=False):
    body = {"message": message}
    if errors is not None:
        body["errors"] = errors
    body["documentation_url"] = doc
    if status_field:
        body["status"] = str(status)  # newer answers repeat it, as text
    return Answer(status, body)


def not_found():
    return error(404, "Not Found")


def validation(resource, field, code, message=None, doc=DOCS):
    e = {"resource": resource, "code": code, "field": field}
    if message:
        e["message"] = message
    return error(422, "Validation Failed", doc, [e])


def pull_refused(message, doc=PULL_DOCS + "#create-a-pull-request"):
    """GitHub's 422 for a pull request it will not take, in its own words."""
    return error(422, "Validation Failed", doc,
                 [{"resource": "PullRequest", "code": "custom", "message": message}],
                 status_field=True)


def sha_of(*parts):
    """A stable commit id: the fake keeps no git objects."""
    return hashlib.sha1(":".join(str(p) for p in parts).encode()).hexdigest()


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_id():
    counters["id"] += 1
    return counters["id"]


def node_id(kind, ident):
    return base64.b64encode(("%02d:%s%d" % (len(kind), kind, ident)).encode()).decode()


def repo_get(full):
    if full not in repos:
        rid = new_id()
        repo = {"id": rid, "full": full, "labels": {}, "issues": {}, "comments": {},
                "next_number": 1, "assignable": {}}
        people = [full.split("/")[0], BOT] + [u.split("=", 1)[0] for u in args.user_token]
        for login in people + list(COLLABORATORS):
            repo["assignable"][login.lower()] = login
        for name, color, desc in DEFAULT_LABELS:
            label_add(repo, name, color, desc, default=True)
        repos[full] = repo
        repo_ids[rid] = full
    return repos[full]


def label_add(repo, name, color="ededed", description=None, default=False):
    label = {"id": new_id(), "name": name, "color": color, "default": default,
             "description": description}
    repo["labels"][name.lower()] = label
    return label


class Site:
    """The URLs of one request's answers: the API base the client used."""

    def __init__(self, host, prefix):
        self.api = "http://%s%s" % (host, prefix)
        self.html = "http://%s" % host

    def user(self, login):
        uid = 5000 + sum(login.encode())
        base = "%s/users/%s" % (self.api, login)
        return {
            "login": login, "id": uid, "node_id": node_id("User", uid),
            "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4" % uid,
            "gravatar_id": "", "url": base, "html_url": "%s/%s" % (self.html, login),
            "followers_url": base + "/followers",
            "following_url": base + "/following{/other_user}",
            "gists_url": base + "/gists{/gist_id}",
            "starred_url": base + "/starred{/owner}{/repo}",
            "subscriptions_url": base + "/subscriptions",
            "organizations_url": base + "/orgs", "repos_url": base + "/repos",
            "events_url": base + "/events{/privacy}",
            "received_events_url": base + "/received_events",
            "type": "Bot" if login == BOT else "User", "user_view_type": "public",
            "site_admin": False,
        }

    def authenticated(self, login):
        """GET /user: the token's own account, with the fields only its owner sees."""
        u = self.user(login)
        u.update({"name": None if login == BOT else login.title(), "company": None, "blog": "",
                  "location": None, "email": None, "hireable": None, "bio": None,
                  "twitter_username": None, "notification_email": None,
                  "public_repos": 1, "public_gists": 0, "followers": 0, "following": 0,
                  "created_at": "2020-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                  "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0,
                  "disk_usage": 0, "collaborators": 0, "two_factor_authentication": True,
                  "plan": {"name": "free", "space": 976562499, "collaborators": 0,
                           "private_repos": 10000}})
        return u

    def label(self, repo, label):
        return {
            "id": label["id"], "node_id": node_id("Label", label["id"]),
            "url": "%s/repos/%s/labels/%s" % (self.api, repo["full"], quote(label["name"], safe="")),
            "name": label["name"], "color": label["color"], "default": label["default"],
            "description": label["description"],
        }

    def reactions(self, url):
        r = {"url": url + "/reactions", "total_count": 0}
        for k in ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"):
            r[k] = 0
        return r

    def issue(self, repo, issue, full=True):
        url = "%s/repos/%s/issues/%d" % (self.api, repo["full"], issue["number"])
        kind = "pull" if issue["pull_request"] else "issues"
        o = {
            "url": url, "repository_url": "%s/repos/%s" % (self.api, repo["full"]),
            "labels_url": url + "/labels{/name}", "comments_url": url + "/comments",
            "events_url": url + "/events",
            "html_url": "%s/%s/%s/%d" % (self.html, repo["full"], kind, issue["number"]),
            "id": issue["id"], "node_id": node_id("Issue", issue["id"]),
            "number": issue["number"], "title": issue["title"],
            "user": self.user(issue["user"]),
            "labels": [self.label(repo, repo["labels"][n]) for n in issue["labels"]],
            "state": issue["state"], "locked": False,
            "assignee": self.user(issue["assignees"][0]) if issue["assignees"] else None,
            "assignees": [self.user(a) for a in issue["assignees"]],
            "milestone": None, "comments": len(repo["comments"].get(issue["number"], [])),
            "created_at": issue["created_at"], "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"], "author_association": "OWNER",
            "type": None, "active_lock_reason": None, "sub_issues_summary": {
                "total": 0, "completed": 0, "percent_completed": 0},
        }
        if issue["pull_request"]:
            pr = "%s/repos/%s/pulls/%d" % (self.api, repo["full"], issue["number"])
            html = "%s/%s/pull/%d" % (self.html, repo["full"], issue["number"])
            o["draft"] = False
            o["pull_request"] = {"url": pr, "html_url": html, "diff_url": html + ".diff",
                                 "patch_url": html + ".patch",
                                 "merged_at": issue["pull_request"]["merged_at"]}
        o["body"] = issue["body"]
        if full:
            o["closed_by"] = self.user(issue["closed_by"]) if issue["closed_by"] else None
        o["reactions"] = self.reactions(url)
        o["timeline_url"] = url + "/timeline"
        o["performed_via_github_app"] = None
        o["state_reason"] = issue["state_reason"]
        return o

    def repository(self, repo):
        full = repo["full"]
        owner = full.split("/")[0]
        url = "%s/repos/%s" % (self.api, full)
        o = {"id": repo["id"], "node_id": node_id("Repository", repo["id"]),
             "name": full.split("/")[1], "full_name": full, "private": False,
             "owner": self.user(owner), "html_url": "%s/%s" % (self.html, full),
             "description": None, "fork": False, "url": url}
        for k, tail in (("forks", "/forks"), ("keys", "/keys{/key_id}"),
                        ("collaborators", "/collaborators{/collaborator}"),
                        ("teams", "/teams"), ("hooks", "/hooks"),
                        ("issue_events", "/issues/events{/number}"), ("events", "/events"),
                        ("assignees", "/assignees{/user}"), ("branches", "/branches{/branch}"),
                        ("tags", "/tags"), ("blobs", "/git/blobs{/sha}"),
                        ("git_tags", "/git/tags{/sha}"), ("git_refs", "/git/refs{/sha}"),
                        ("trees", "/git/trees{/sha}"), ("statuses", "/statuses/{sha}"),
                        ("languages", "/languages"), ("stargazers", "/stargazers"),
                        ("contributors", "/contributors"), ("subscribers", "/subscribers"),
                        ("subscription", "/subscription"), ("commits", "/commits{/sha}"),
                        ("git_commits", "/git/commits{/sha}"), ("comments", "/comments{/number}"),
                        ("issue_comment", "/issues/comments{/number}"),
                        ("contents", "/contents/{+path}"), ("compare", "/compare/{base}...{head}"),
                        ("merges", "/merges"), ("archive", "/{archive_format}{/ref}"),
                        ("downloads", "/downloads"), ("issues", "/issues{/number}"),
                        ("pulls", "/pulls{/number}"), ("milestones", "/milestones{/number}"),
                        ("notifications", "/notifications{?since,all,participating}"),
                        ("labels", "/labels{/name}"), ("releases", "/releases{/id}"),
                        ("deployments", "/deployments")):
            o[k + "_url"] = url + tail
        o.update({
            "created_at": "2024-01-01T00:00:00Z", "updated_at": now(), "pushed_at": now(),
            "git_url": "git://%s/%s.git" % (self.html.split("//")[1], full),
            "ssh_url": "git@%s:%s.git" % (self.html.split("//")[1].split(":")[0], full),
            "clone_url": "%s/%s.git" % (self.html, full), "svn_url": "%s/%s" % (self.html, full),
            "homepage": None, "size": 0, "stargazers_count": 0, "watchers_count": 0,
            "language": None, "has_issues": True, "has_projects": True, "has_downloads": True,
            "has_wiki": True, "has_pages": False, "has_discussions": False, "forks_count": 0,
            "mirror_url": None, "archived": False, "disabled": False,
            "open_issues_count": sum(1 for i in repo["issues"].values() if i["state"] == "open"),
            "license": None, "allow_forking": True, "is_template": False,
            "web_commit_signoff_required": False, "topics": [], "visibility": "public",
            "forks": 0, "open_issues": 0, "watchers": 0, "default_branch": DEFAULT_BRANCH,
        })
        o["open_issues"] = o["open_issues_count"]
        return o

    def team(self, repo, slug):
        org = repo["full"].split("/")[0]
        tid = 7000 + sum(slug.encode())
        url = "%s/organizations/%d/team/%d" % (self.api, 5000 + sum(org.encode()), tid)
        return {"name": slug, "id": tid, "node_id": node_id("Team", tid), "slug": slug,
                "description": None, "privacy": "closed", "notification_setting":
                "notifications_enabled", "url": url,
                "html_url": "%s/orgs/%s/teams/%s" % (self.html, org, slug),
                "members_url": url + "/members{/member}",
                "repositories_url": url + "/repos", "permission": "pull", "parent": None}

    def branch(self, repo, ref, sha):
        owner = repo["full"].split("/")[0]
        return {"label": "%s:%s" % (owner, ref), "ref": ref, "sha": sha,
                "user": self.user(owner), "repo": self.repository(repo)}

    def pull(self, repo, issue, full=True):
        """A pull request as GET /pulls/<n> shows it; full=False: as the list does."""
        pr, n = issue["pull_request"], issue["number"]
        url = "%s/repos/%s/pulls/%d" % (self.api, repo["full"], n)
        html = "%s/%s/pull/%d" % (self.html, repo["full"], n)
        issue_url = "%s/repos/%s/issues/%d" % (self.api, repo["full"], n)
        statuses = "%s/repos/%s/statuses/%s" % (self.api, repo["full"], pr["head_sha"])
        review_comment = "%s/repos/%s/pulls/comments{/number}" % (self.api, repo["full"])
        o = {
            "url": url, "id": issue["pr_id"], "node_id": node_id("PullRequest", issue["pr_id"]),
            "html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch",
            "issue_url": issue_url, "number": n, "state": issue["state"], "locked": False,
            "title": issue["title"], "user": self.user(issue["user"]), "body": issue["body"],
            "created_at": issue["created_at"], "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"], "merged_at": pr["merged_at"],
            "merge_commit_sha": pr["merge_commit_sha"],
            "assignee": self.user(issue["assignees"][0]) if issue["assignees"] else None,
            "assignees": [self.user(a) for a in issue["assignees"]],
            "requested_reviewers": [self.user(u) for u in pr["requested_reviewers"]],
            "requested_teams": [self.team(repo, t) for t in pr["requested_teams"]],
            "labels": [self.label(repo, repo["labels"][k]) for k in issue["labels"]],
            "milestone": None, "draft": pr["draft"],
            "commits_url": url + "/commits", "review_comments_url": url + "/comments",
            "review_comment_url": review_comment, "comments_url": issue_url + "/comments",
            "statuses_url": statuses,
            "head": self.branch(repo, pr["head"], pr["head_sha"]),
            "base": self.branch(repo, pr["base"], pr["base_sha"]),
            "_links": {
                "self": {"href": url}, "html": {"href": html}, "issue": {"href": issue_url},
                "comments": {"href": issue_url + "/comments"},
                "review_comments": {"href": url + "/comments"},
                "review_comment": {"href": review_comment},
                "commits": {"href": url + "/commits"}, "statuses": {"href": statuses},
            },
            "author_association": "OWNER", "auto_merge": None, "active_lock_reason": None,
        }
        if full:
            is_open = issue["state"] == "open"
            o.update({
                "merged": pr["merged"], "mergeable": True if is_open else None,
                "rebaseable": True if is_open else None,
                "mergeable_state": "clean" if is_open else "unknown",
                "merged_by": self.user(pr["merged_by"]) if pr["merged_by"] else None,
                "comments": len(repo["comments"].get(n, [])), "review_comments": 0,
                "maintainer_can_modify": False, "commits": 1, "additions": 1,
                "deletions": 1, "changed_files": 1,
            })
        return o

    def review(self, repo, issue, r):
        n = issue["number"]
        html = "%s/%s/pull/%d#pullrequestreview-%d" % (self.html, repo["full"], n, r["id"])
        pull = "%s/repos/%s/pulls/%d" % (self.api, repo["full"], n)
        return {
            "id": r["id"], "node_id": node_id("PullRequestReview", r["id"]),
            "user": self.user(r["user"]), "body": r["body"], "state": r["state"],
            "html_url": html, "pull_request_url": pull, "author_association": "MEMBER",
            "_links": {"html": {"href": html}, "pull_request": {"href": pull}},
            "submitted_at": r["submitted_at"], "commit_id": r["commit_id"],
        }

    def comment(self, repo, c):
        url = "%s/repos/%s/issues/comments/%d" % (self.api, repo["full"], c["id"])
        return {
            "url": url,
            "html_url": "%s/%s/issues/%d#issuecomment-%d" % (self.html, repo["full"],
                                                              c["issue"], c["id"]),
            "issue_url": "%s/repos/%s/issues/%d" % (self.api, repo["full"], c["issue"]),
            "id": c["id"], "node_id": node_id("IssueComment", c["id"]),
            "user": self.user(c["user"]), "created_at": c["created_at"],
            "updated_at": c["updated_at"], "author_association": "OWNER",
            "body": c["body"], "reactions": self.reactions(url),
            "performed_via_github_app": None,
        }


def page_of(items, query, site, path):
    """One page of items and its Link header, as GitHub paginates."""
    try:
        per_page = int(query.get("per_page", 30))
    except ValueError:
        per_page = 30
    per_page = max(1, min(per_page, 100, args.per_page or 100))
    try:
        page = max(1, int(query.get("page", 1)))
    except ValueError:
        page = 1
    last = max(1, -(-len(items) // per_page))
    params = [(k, v) for k, v in query.items() if k != "page"]

    def url(n):
        q = "&".join("%s=%s" % (quote(k, safe=""), quote(v, safe=",")) for k, v in params)
        return "<%s%s?%s%spage=%d>" % (site.api, path, q, "&" if q else "", n)

    links = []
    if page > 1:
        links.append('%s; rel="prev"' % url(min(page - 1, last)))
    if page < last:
        links.append('%s; rel="next"' % url(page + 1))
        links.append('%s; rel="last"' % url(last))
    if page > 1:
        links.append('%s; rel="first"' % url(1))
    headers = {"Link": ", ".join(links)} if links else {}
    return items[(page - 1) * per_page:page * per_page], headers


def json_body(raw):
    try:
        return json.loads(raw or "null")
    except ValueError:
        raise error(400, "Problems parsing JSON")


def issue_of(repo, number):
    issue = repo["issues"].get(int(number))
    if not issue:
        raise not_found()
    return issue


def names_of(value):
    """Label names from a request body: ["a"], {"labels": [...]}, [{"name": "a"}]."""
    if isinstance(value, dict):
        value = value.get("labels")
    if not isinstance(value, list):
        raise validation("Label", "labels", "invalid")
    names = []
    for v in value:
        name = v.get("name") if isinstance(v, dict) else v
        if not isinstance(name, str) or not name:
            raise validation("Label", "name", "invalid")
        names.append(name)
    return names


def attach_labels(repo, issue, names):
    """Put labels on an issue, creating the missing ones in grey as GitHub does."""
    for name in names:
        key = name.lower()
        if key not in repo["labels"]:
            if len(name) > 50:
                raise validation("Label", "name", "custom",
                                 "name is too long (maximum is 50 characters)")
            label_add(repo, name)
        if key not in issue["labels"]:
            issue["labels"].append(key)


def touch(issue):
    issue["updated_at"] = now()


def issue_new(repo, title, body, pull_request=False):
    number = repo["next_number"]
    repo["next_number"] += 1
    t = now()
    if pull_request:
        pull_request.update(merged=False, merged_at=None, merged_by=None, merge_commit_sha=None,
                            requested_reviewers=[], requested_teams=[], reviews=[])
    issue = {"number": number, "id": new_id(), "title": title, "body": body, "user": BOT,
             "labels": [], "assignees": [], "state": "open", "state_reason": None,
             "created_at": t, "updated_at": t, "closed_at": None, "closed_by": None,
             "pull_request": pull_request, "seq": counters["id"]}
    if pull_request:
        issue["pr_id"] = new_id()
    repo["issues"][number] = issue
    return issue


def issue_fields(repo, issue, b):
    """Apply the fields of a POST or PATCH body to an issue."""
    if "title" in b:
        if not isinstance(b["title"], (str, int)) or str(b["title"]).strip() == "":
            raise validation("Issue", "title", "missing_field")
        issue["title"] = str(b["title"])
    if "body" in b:
        if b["body"] is not None and not isinstance(b["body"], str):
            raise validation("Issue", "body", "invalid")
        if b["body"] and len(b["body"]) > 65536:
            raise validation("Issue", "body", "custom",
                             "body is too long (maximum is 65536 characters)")
        issue["body"] = b["body"]
    if "labels" in b:
        issue["labels"] = []
        attach_labels(repo, issue, names_of(b["labels"]))
    if "assignee" in b:
        issue["assignees"] = assignable(repo, [b["assignee"]] if b["assignee"] else [],
                                        "assignee")
    if "assignees" in b:
        if not isinstance(b["assignees"], list):
            raise validation("Issue", "assignees", "invalid")
        issue["assignees"] = assignable(repo, b["assignees"], "assignees")
    if "state" in b:
        state = b["state"]
        if state not in ("open", "closed"):
            raise validation("Issue", "state", "invalid")
        if state == "closed" and issue["state"] != "closed":
            reason = b.get("state_reason") or "completed"
            if reason not in ("completed", "not_planned", "duplicate"):
                raise validation("Issue", "state_reason", "invalid")
            issue.update(state="closed", state_reason=reason, closed_at=now(), closed_by=BOT)
        elif state == "open" and issue["state"] != "open":
            issue.update(state="open", state_reason="reopened", closed_at=None,
                         closed_by=None)


def assignable(repo, logins, field, drop=False):
    """The logins as GitHub spells them; one that may not be assigned is a
    422 naming it, or with drop (POST .../assignees) silently left out."""
    out = []
    for login in logins:
        known = repo["assignable"].get(login.lower()) if isinstance(login, str) else None
        if known is None:
            if drop:
                continue
            e = {"value": login, "resource": "Issue", "field": field, "code": "invalid"}
            raise error(422, "Validation Failed", DOCS + "/issues/issues#update-an-issue", [e])
        if known not in out:
            out.append(known)
    return out


def assignees_body(raw):
    b = json_body(raw)
    if not isinstance(b, dict) or not isinstance(b.get("assignees"), list) or \
            not all(isinstance(a, str) for a in b["assignees"]):
        raise validation("Issue", "assignees", "invalid",
                         doc=DOCS + "/issues/assignees#add-assignees-to-an-issue")
    if len(b["assignees"]) > 10:
        raise validation("Issue", "assignees", "custom", "You can add up to 10 assignees",
                         doc=DOCS + "/issues/assignees#add-assignees-to-an-issue")
    return b["assignees"]


def issues_list(repo, query):
    state = query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation("Issue", "state", "invalid")
    wanted = [n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()]
    assignee = query.get("assignee")
    out = []
    for issue in repo["issues"].values():
        if state != "all" and issue["state"] != state:
            continue
        if any(n not in issue["labels"] for n in wanted):
            continue
        logins = [a.lower() for a in issue["assignees"]]
        if assignee == "none" and logins:
            continue
        if assignee == "*" and not logins:
            continue
        if assignee not in (None, "none", "*") and assignee.lower() not in logins:
            continue
        out.append(issue)
    key = "updated_at" if query.get("sort") == "updated" else "seq"
    out.sort(key=lambda i: (i[key], i["seq"]), reverse=query.get("direction", "desc") != "asc")
    return out


def pull_of(repo, number):
    issue = repo["issues"].get(int(number)) if str(number).isdigit() else None
    if not issue or not issue["pull_request"]:
        raise not_found()
    return issue


def pull_head(repo, head):
    """The branch of a head ("branch" or "owner:branch"); another owner's is a fork."""
    owner, _, ref = head.rpartition(":")
    if owner and owner.lower() != repo["full"].split("/")[0].lower():
        raise validation("PullRequest", "head", "invalid", doc=PULL_DOCS + "#create-a-pull-request")
    return ref


def pull_create(repo, b):
    if not isinstance(b, dict):
        raise error(400, "Problems parsing JSON")
    for field in ("title", "head", "base"):
        if not b.get(field):
            raise validation("PullRequest", field, "missing_field",
                             doc=PULL_DOCS + "#create-a-pull-request")
    for field in ("title", "head", "base"):
        if not isinstance(b[field], str):
            raise validation("PullRequest", field, "invalid",
                             doc=PULL_DOCS + "#create-a-pull-request")
    if b.get("body") is not None and not isinstance(b["body"], str):
        raise validation("PullRequest", "body", "invalid", doc=PULL_DOCS + "#create-a-pull-request")
    head, base = pull_head(repo, b["head"]), b["base"]
    owner = repo["full"].split("/")[0]
    if head == base:
        raise pull_refused("No commits between %s and %s" % (base, head))
    for other in repo["issues"].values():
        pr = other["pull_request"]
        if pr and other["state"] == "open" and pr["head"] == head and pr["base"] == base:
            raise pull_refused("A pull request already exists for %s:%s." % (owner, head))
    n = repo["next_number"]
    pr = {"head": head, "base": base, "draft": bool(b.get("draft")),
          "head_sha": sha_of(repo["full"], head, n), "base_sha": sha_of(repo["full"], base)}
    return issue_new(repo, b["title"], b.get("body"), pull_request=pr)


def pulls_list(repo, query):
    state = query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation("PullRequest", "state", "invalid")
    head, base = query.get("head"), query.get("base")
    owner, ref = None, None
    if head and ":" in head:
        # GitHub filters by "owner:branch" only; a bare branch filters nothing.
        owner, _, ref = head.partition(":")
    out = []
    for issue in repo["issues"].values():
        pr = issue["pull_request"]
        if not pr or (state != "all" and issue["state"] != state):
            continue
        if ref is not None and (owner.lower() != repo["full"].split("/")[0].lower()
                                or pr["head"] != ref):
            continue
        if base and pr["base"] != base:
            continue
        out.append(issue)
    sort = query.get("sort", "created")
    key = "updated_at" if sort == "updated" else "seq"
    desc = query.get("direction", "desc" if sort == "created" else "asc") == "desc"
    out.sort(key=lambda i: (i[key], i["seq"]), reverse=desc)
    return out


def pull_edit(repo, issue, b):
    """PATCH /pulls/<n>: title, body, state, base."""
    if not isinstance(b, dict):
        raise error(400, "Problems parsing JSON")
    pr = issue["pull_request"]
    if b.get("state") == "open" and pr["merged"]:
        raise validation("PullRequest", "state", "custom",
                         "state cannot be changed. The pull request has been merged.")
    if "base" in b:
        if not isinstance(b["base"], str) or not b["base"]:
            raise validation("PullRequest", "base", "invalid")
        pr["base"] = b["base"]
    issue_fields(repo, issue, {k: v for k, v in b.items() if k in ("title", "body", "state")})
    if issue["state"] == "closed":
        issue["state_reason"] = None
    touch(issue)


def pull_merge(issue, user=BOT):
    pr = issue["pull_request"]
    if issue["state"] != "open":
        raise error(405, "Pull Request is not mergeable",
                    PULL_DOCS + "#merge-a-pull-request")
    t = now()
    pr.update(merged=True, merged_at=t, merged_by=user,
              merge_commit_sha=sha_of("merge", pr["head_sha"], pr["base_sha"]))
    issue.update(state="closed", closed_at=t, closed_by=user, updated_at=t)


def pull_act(repo, issue, b):
    """POST /_fake/pull: what people do to a pull request on GitHub."""
    pr, action, user = issue["pull_request"], b.get("action"), b.get("user")
    author = issue["user"]
    if action == "request_review":
        team = b.get("team")
        if not user and not team:
            raise validation("PullRequest", "reviewers", "missing_field")
        if user and user.lower() == author.lower():
            raise pull_refused("Review cannot be requested from pull request author.",
                               DOCS + "/pulls/review-requests")
        if user and user not in pr["requested_reviewers"]:
            pr["requested_reviewers"].append(user)
        if team and team not in pr["requested_teams"]:
            pr["requested_teams"].append(team)
    elif action == "review":
        state = b.get("state", "COMMENTED")
        if not user:
            raise validation("PullRequestReview", "user", "missing_field")
        if state not in VERDICTS + ("COMMENTED",):
            raise validation("PullRequestReview", "event", "invalid")
        if state in VERDICTS and user.lower() == author.lower():
            raise error(422, "Unprocessable Entity", DOCS + "/pulls/reviews",
                        ["Can not %s your own pull request" %
                         ("approve" if state == "APPROVED" else "request changes on")])
        pr["reviews"].append({"id": new_id(), "user": user, "state": state,
                              "body": b.get("body", ""), "submitted_at": now(),
                              "commit_id": pr["head_sha"]})
        # A review given is a request answered.
        pr["requested_reviewers"] = [u for u in pr["requested_reviewers"]
                                     if u.lower() != user.lower()]
    elif action == "dismiss":
        standing = [r for r in pr["reviews"] if r["user"] == user and r["state"] in VERDICTS]
        if not standing:
            raise not_found()
        standing[-1]["state"] = "DISMISSED"
    elif action == "merge":
        pull_merge(issue, user or BOT)
    elif action in ("close", "reopen"):
        pull_edit(repo, issue, {"state": "closed" if action == "close" else "open"})
    else:
        raise Answer(400, {"message": "action: request_review, review, dismiss, merge, "
                                      "close or reopen", "documentation_url": DOCS})
    touch(issue)


def route(method, segs, query, raw_body, site, who=BOT):
    """Answer one API request as account who: (status, body, headers), or raise Answer."""
    if segs == ["user"] and method == "GET":
        return 200, site.authenticated(who), {}
    if len(segs) >= 3 and segs[0] == "repos":
        full = "%s/%s" % (segs[1], segs[2])
        base = "/repos/%s/%s" % (quote(segs[1], safe=""), quote(segs[2], safe=""))
        rest = segs[3:]
    elif len(segs) >= 2 and segs[0] == "repositories" and segs[1].isdigit() \
            and int(segs[1]) in repo_ids:
        full = repo_ids[int(segs[1])]
        base = "/repositories/%s" % segs[1]
        rest = segs[2:]
    else:
        raise not_found()
    repo = repo_get(full)
    link_base = "/repositories/%d" % repo["id"]
    label_doc = DOCS + "/issues/labels"

    if rest == ["issues"] and method == "GET":
        items, headers = page_of(issues_list(repo, query), query, site, link_base + "/issues")
        return 200, [site.issue(repo, i, full=False) for i in items], headers
    if rest == ["issues"] and method == "POST":
        b = json_body(raw_body)
        if not isinstance(b, dict):
            raise error(400, "Problems parsing JSON")
        if "title" not in b or b["title"] is None:
            raise validation("Issue", "title", "missing_field",
                             doc=DOCS + "/issues/issues#create-an-issue")
        issue = issue_new(repo, "", None)
        try:
            issue_fields(repo, issue, b)
        except Answer:
            del repo["issues"][issue["number"]]
            repo["next_number"] -= 1
            raise
        url = "%s%s/issues/%d" % (site.api, base, issue["number"])
        return 201, site.issue(repo, issue), {"Location": url}
    if rest == ["pulls"] and method == "POST":
        issue = pull_create(repo, json_body(raw_body))
        url = "%s%s/pulls/%d" % (site.api, base, issue["number"])
        return 201, site.pull(repo, issue), {"Location": url}
    if rest == ["pulls"] and method == "GET":
        items, headers = page_of(pulls_list(repo, query), query, site, link_base + "/pulls")
        return 200, [site.pull(repo, i, full=False) for i in items], headers
    if len(rest) >= 2 and rest[0] == "pulls":
        issue = pull_of(repo, rest[1])
        sub = rest[2:]
        if not sub and method == "GET":
            return 200, site.pull(repo, issue), {}
        if not sub and method == "PATCH":
            pull_edit(repo, issue, json_body(raw_body))
            return 200, site.pull(repo, issue), {}
        if sub == ["merge"] and method == "PUT":
            pull_merge(issue)
            return 200, {"sha": issue["pull_request"]["merge_commit_sha"], "merged": True,
                         "message": "Pull Request successfully merged"}, {}
        if sub == ["reviews"] and method == "GET":
            reviews = issue["pull_request"]["reviews"]
            items, headers = page_of(reviews, query, site,
                                     "%s/pulls/%d/reviews" % (link_base, issue["number"]))
            return 200, [site.review(repo, issue, r) for r in items], headers
        raise not_found()
    if len(rest) >= 2 and rest[0] == "issues" and rest[1].isdigit():
        issue = issue_of(repo, rest[1])
        sub = rest[2:]
        if not sub and method == "GET":
            return 200, site.issue(repo, issue), {}
        if not sub and method == "PATCH":
            b = json_body(raw_body)
            if not isinstance(b, dict):
                raise error(400, "Problems parsing JSON")
            issue_fields(repo, issue, b)
            touch(issue)
            return 200, site.issue(repo, issue), {}
        if sub == ["labels"] and method == "GET":
            labels = [site.label(repo, repo["labels"][n]) for n in issue["labels"]]
            items, headers = page_of(labels, query, site,
                                     "%s/issues/%d/labels" % (link_base, issue["number"]))
            return 200, items, headers
        if sub == ["labels"] and method in ("POST", "PUT"):
            names = names_of(json_body(raw_body))
            if method == "PUT":
                issue["labels"] = []
            attach_labels(repo, issue, names)
            touch(issue)
            return 200, [site.label(repo, repo["labels"][n]) for n in issue["labels"]], {}
        if len(sub) == 2 and sub[0] == "labels" and method == "DELETE":
            key = sub[1].lower()
            if key not in issue["labels"]:
                raise error(404, "Label does not exist",
                            label_doc + "#remove-a-label-from-an-issue")
            issue["labels"].remove(key)
            touch(issue)
            return 200, [site.label(repo, repo["labels"][n]) for n in issue["labels"]], {}
        if sub == ["assignees"] and method == "POST":
            for login in assignable(repo, assignees_body(raw_body), "assignees", drop=True):
                if login not in issue["assignees"]:
                    issue["assignees"].append(login)
            touch(issue)
            return 201, site.issue(repo, issue), {}
        if sub == ["assignees"] and method == "DELETE":
            gone = [a.lower() for a in assignees_body(raw_body)]
            issue["assignees"] = [a for a in issue["assignees"] if a.lower() not in gone]
            touch(issue)
            return 200, site.issue(repo, issue), {}
        if sub == ["comments"] and method == "GET":
            comments = repo["comments"].get(issue["number"], [])
            items, headers = page_of(comments, query, site,
                                     "%s/issues/%d/comments" % (link_base, issue["number"]))
            return 200, [site.comment(repo, c) for c in items], headers
        if sub == ["comments"] and method == "POST":
            b = json_body(raw_body)
            if not isinstance(b, dict) or not isinstance(b.get("body"), str) or not b["body"]:
                raise validation("IssueComment", "body", "missing_field")
            if len(b["body"]) > 65536:
                raise validation("IssueComment", "body", "custom",
                                 "body is too long (maximum is 65536 characters)")
            t = now()
            c = {"id": new_id(), "issue": issue["number"], "user": who, "body": b["body"],
                 "created_at": t, "updated_at": t}
            repo["comments"].setdefault(issue["number"], []).append(c)
            touch(issue)
            url = "%s/repos/%s/issues/comments/%d" % (site.api, repo["full"], c["id"])
            return 201, site.comment(repo, c), {"Location": url}
        raise not_found()
    if rest == ["assignees"] and method == "GET":
        people = [site.user(login) for login in sorted(repo["assignable"].values(), key=str.lower)]
        items, headers = page_of(people, query, site, link_base + "/assignees")
        return 200, items, headers
    if len(rest) == 2 and rest[0] == "assignees" and method == "GET":
        if rest[1].lower() not in repo["assignable"]:
            raise not_found()
        return 204, None, {}
    if rest == ["labels"] and method == "GET":
        labels = [site.label(repo, label) for label in repo["labels"].values()]
        items, headers = page_of(labels, query, site, link_base + "/labels")
        return 200, items, headers
    if rest == ["labels"] and method == "POST":
        b = json_body(raw_body)
        doc = label_doc + "#create-a-label"
        if not isinstance(b, dict) or not isinstance(b.get("name"), str) or not b["name"]:
            raise validation("Label", "name", "missing_field", doc=doc)
        color = b.get("color", "ededed")
        if not isinstance(color, str) or not re.fullmatch(r"#?[0-9A-Fa-f]{6}", color):
            raise validation("Label", "color", "invalid", doc=doc)
        if len(b["name"]) > 50:
            raise validation("Label", "name", "custom",
                             "name is too long (maximum is 50 characters)", doc=doc)
        desc = b.get("description")
        if desc is not None and (not isinstance(desc, str) or len(desc) > 100):
            raise validation("Label", "description", "custom",
                             "description is too long (maximum is 100 characters)", doc=doc)
        if b["name"].lower() in repo["labels"]:
            raise validation("Label", "name", "already_exists", doc=doc)
        label = label_add(repo, b["name"], color.lstrip("#"), desc)
        return 201, site.label(repo, label), {
            "Location": "%s/repos/%s/labels/%s" % (site.api, repo["full"],
                                                   quote(label["name"], safe=""))}
    if len(rest) == 2 and rest[0] == "labels":
        label = repo["labels"].get(rest[1].lower())
        if not label:
            raise not_found()
        if method == "GET":
            return 200, site.label(repo, label), {}
        if method == "DELETE":
            del repo["labels"][rest[1].lower()]
            for issue in repo["issues"].values():
                if rest[1].lower() in issue["labels"]:
                    issue["labels"].remove(rest[1].lower())
            return 204, None, {}
    raise not_found()


def state_dump():
    out = {}
    for full, repo in repos.items():
        site = Site("127.0.0.1", "")
        out[full] = {
            "issues": [site.issue(repo, i) for i in repo["issues"].values()],
            "comments": {str(n): [site.comment(repo, c) for c in cs]
                         for n, cs in repo["comments"].items()},
            "labels": [site.label(repo, label) for label in repo["labels"].values()],
            "pulls": [site.pull(repo, i) for i in repo["issues"].values() if i["pull_request"]],
            "assignable": sorted(repo["assignable"].values(), key=str.lower),
            "reviews": {str(i["number"]): [site.review(repo, i, r)
                                           for r in i["pull_request"]["reviews"]]
                        for i in repo["issues"].values() if i["pull_request"]},
        }
    return out


class Handler(fakeserver.FakeHandler):
    log_lock = threading.Lock()  # a request is logged before it waits for the state's lock
    json_type = text_type = "application/json; charset=utf-8"
    no_control = {"message": "Not Found", "documentation_url": DOCS}

    def version_string(self):
        return "GitHub.com"

    def answer_headers(self, status, content_type):
        used = counters["requests"]
        self.send_header("Content-Type", content_type)
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", str(max(0, 5000 - used)))
        self.send_header("X-RateLimit-Reset", str(int(time.time()) + 3600))
        self.send_header("X-RateLimit-Used", str(used))
        self.send_header("X-RateLimit-Resource", "core")
        self.send_header("X-GitHub-Request-Id", "%04X:%05X:%07X:%07X:%08X" % (
            os.getpid() & 0xFFFF, used, used * 7, used * 13, int(time.time())))

    def serve(self, raw_path, raw_query, raw_body):
        self.log_request_json(raw_path, raw_query, raw_body)
        with self.lock:
            counters["requests"] += 1
            lost = self.take_failure(raw_path)
            # "after": the request is carried out, then its answer is
            # lost (a proxy's 502, a timeout): the write did land.
            if lost is not None and not lost.get("after"):
                return self.answer_failure(lost)
            auth = self.headers.get("Authorization", "")
            who = None
            for login, token in [(BOT, args.token)] + [u.split("=", 1) for u in args.user_token]:
                if auth in ("Bearer " + token, "token " + token):
                    who = login
            if who is None:
                return self.answer(401, {"message": "Bad credentials", "documentation_url": DOCS})
            prefix = "/api/v3" if raw_path.startswith("/api/v3/") else ""
            segs = [unquote(s) for s in raw_path[len(prefix):].split("/")[1:]]
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
            site = Site(self.headers.get("Host", "127.0.0.1"), prefix)
            try:
                status, body, headers = route(self.command, segs, query, raw_body, site, who)
            except Answer as a:
                status, body, headers = a.status, a.body, a.headers
            if lost is not None:
                return self.answer_failure(lost, 502)
            self.answer(status, body, headers)

    def control(self, path, raw):
        with self.lock:
            if path == "/_fake/state" and self.command == "GET":
                return self.answer(200, state_dump())
            if path == "/_fake/recover" and self.command == "POST":
                self.failures.clear()
                return self.answer(200, {"failures": 0})
            if path == "/_fake/assignable" and self.command == "POST":
                try:
                    b = json.loads(raw or "null")
                except ValueError:
                    raise error(400, "Problems parsing JSON")
                if not isinstance(b, dict) or not isinstance(b.get("repo"), str):
                    raise error(400, "repo: owner/name")
                repo = repo_get(b["repo"])
                for login in b.get("add") or []:
                    repo["assignable"][login.lower()] = login
                for login in b.get("remove") or []:
                    repo["assignable"].pop(login.lower(), None)
                return self.answer(200, {"assignable": sorted(repo["assignable"].values(),
                                                              key=str.lower)})
            if path == "/_fake/pull" and self.command == "POST":
                try:
                    b = json.loads(raw or "null")
                except ValueError:
                    raise error(400, "Problems parsing JSON")
                if not isinstance(b, dict) or not isinstance(b.get("repo"), str) \
                        or b["repo"] not in repos:
                    raise not_found()
                repo = repos[b["repo"]]
                issue = pull_of(repo, str(b.get("number")))
                pull_act(repo, issue, b)
                site = Site(self.headers.get("Host", "127.0.0.1"), "")
                return self.answer(200, site.pull(repo, issue))
        return super().control(path, raw)


def main():
    global args
    p = fakeserver.arguments("a fake GitHub REST API")
    p.add_argument("--token", default="test-token")
    p.add_argument("--user-token", action="append", default=[], metavar="LOGIN=TOKEN",
                   help="another account's token (repeatable)")
    p.add_argument("--per-page", type=int, default=0,
                   help="the most items a page holds, below GitHub's 100")
    args = p.parse_args()
    return fakeserver.serve(Handler, args)


if __name__ == "__main__":
    sys.exit(main())
