#!/usr/bin/env python3
"""A fake JIRA Service Management site for sre's tests.

It keeps one project's issues, their comments and a workflow in memory and
answers the REST endpoints lib/tracker-jira.c uses, with objects shaped field for
field on recorded Jira Cloud answers (../shared/fixtures/jira: jira-cli's
test data and the examples of Atlassian's OpenAPI document). Cloud's
/rest/api/3 speaks ADF documents and pages search/jql with nextPageToken;
/rest/api/2 stands for Data Center: plain-text descriptions and comments,
and /rest/api/2/search paged with startAt and total.

    python3 jira.py --port-file F --log F [--lifetime SECONDS] [--user U]
                    [--token T] [--page-size N] [--project P]

It listens on 127.0.0.1 (a free port, written to --port-file once
listening), appends each request to --log as one JSON line {"method",
"path", "query", "headers", "body"}, and exits after --lifetime seconds or
on SIGTERM. Every request needs Basic auth as --user:--token, as Cloud
wants an account e-mail and API token.

The workflow has the sixteen statuses sre maps its states to, and from
every status a transition "Move to <status>" to every other one, so a
client must pick a transition by its target status, not by its name.

Control endpoints, neither logged nor authenticated:
    POST /_fake/fail   {"method", "path" (a regex), "status", "headers",
                        "body", "times"}: the next `times` matching requests
                        get this answer instead
    POST /_fake/issue  {"summary", "status", "priority", "assignee",
                        "labels", "description", ...}: an issue made
                        directly, as a person would in the web UI
    POST /_fake/comment {"issue": key, "author": who, "body": text}: a
                        comment written by another account, as a person
                        (or anyone who may comment) would in the web UI
    POST /_fake/user   {"email", "displayName", "name", "assignable"}: an
                        account of the site (Data Center's "name" defaults
                        to the e-mail's local part; "assignable": false makes
                        one that may not be assigned issues); answers it
                        with its accountId
    GET  /_fake/state  everything, as JSON

Accounts: Cloud (/rest/api/3) names a user by accountId and shows no
name; Data Center (/rest/api/2) by name and key, with no accountId. PUT
/issue/<key>/assignee takes {"accountId"} on Cloud and {"name"} on Data
Center (204); an account the site does not know is 404 on Cloud (as
Cloud answers an accountId it cannot find) and 400 errors.assignee "User
'x' does not exist." on Data Center; one that may not be assigned is 400
"User 'x' cannot be assigned issues."; a "name" on Cloud is GDPR strict
mode's 400. JQL takes ORDER BY created, updated or key, ASC or DESC.
"""
import base64
import datetime
import hashlib
import json
import re
import sys
from urllib.parse import parse_qs, unquote, urlsplit

import fakeserver  # the command line, life and request machinery every fake shares

STATUSES = [
    "To Do", "In Progress", "Analysis Complete", "Generating Fix", "Fix Generated",
    "Creating PR", "PR Created", "Under Review", "PR Approved", "PR Merged",
    "Deploying", "Deployed", "Verifying Fix", "Verified", "Done",
    "Needs Human Intervention",
]
# Jira's own status categories: (id, key, colorName, name).
CATEGORIES = {
    "new": (2, "new", "blue-gray", "To Do"),
    "indeterminate": (4, "indeterminate", "yellow", "In Progress"),
    "done": (3, "done", "green", "Done"),
}
ISSUE_TYPES = {"10001": "Incident", "10002": "Service Request", "10003": "Task"}
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
NO_AUTH = "Client must be authenticated to access this resource."
NO_ISSUE = "Issue does not exist or you do not have permission to see it."


def category(status):
    if status == "To Do":
        return CATEGORIES["new"]
    if status == "Done":
        return CATEGORIES["done"]
    return CATEGORIES["indeterminate"]


def transition_id(status):
    """Each target status has one global transition; ids as Jira numbers them."""
    return str(11 + 10 * STATUSES.index(status))


Reject = fakeserver.Answer  # an answer other than success: status and a JSON or text body


def errors(status, messages=(), **fields):
    return Reject(status, {"errorMessages": list(messages), "errors": fields})


# ---- ADF, the Atlassian Document Format, and the plain text of Data Center ----

def adf_to_text(doc):
    """What Data Center would show for an ADF document: wiki-ish text."""
    def inline(nodes):
        out = ""
        for n in nodes or []:
            if n.get("type") == "text":
                out += n.get("text", "")
            elif n.get("type") == "hardBreak":
                out += "\n"
            else:
                out += inline(n.get("content"))
        return out
    blocks = []
    for b in (doc or {}).get("content", []):
        if b.get("type") == "codeBlock":
            lang = (b.get("attrs") or {}).get("language") or ""
            blocks.append("{code:%s}\n%s\n{code}" % (lang, inline(b.get("content"))))
        else:
            blocks.append(inline(b.get("content")))
    return "\n\n".join(blocks)


def text_to_adf(text):
    """What Cloud would show for plain text: paragraphs and code blocks."""
    content = []

    def paragraphs(chunk):
        for para in re.split(r"\n\s*\n", chunk):
            lines = [ln for ln in para.split("\n") if ln]
            nodes = []
            for ln in lines:
                if nodes:
                    nodes.append({"type": "hardBreak"})
                nodes.append({"type": "text", "text": ln})
            if nodes:
                content.append({"type": "paragraph", "content": nodes})
    rest, pos = text or "", 0
    for m in re.finditer(r"\{code(?::(\w+))?\}\n?(.*?)\n?\{code\}", rest, re.S):
        paragraphs(rest[pos:m.start()])
        block = {"type": "codeBlock", "content": [{"type": "text", "text": m.group(2)}]}
        if m.group(1):
            block["attrs"] = {"language": m.group(1)}
        content.append(block)
        pos = m.end()
    paragraphs(rest[pos:])
    return {"type": "doc", "version": 1, "content": content}


def is_adf(value):
    return (isinstance(value, dict) and value.get("type") == "doc"
            and value.get("version") == 1 and isinstance(value.get("content"), list))


# ---- JQL: the clauses sre sends, joined by AND ----

JQL_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|=|\(|\)|,)
  | (?P<word>[A-Za-z0-9_.@+\-]+(?:\(\))?)
  )""", re.X)
JQL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def jql_error(message):
    return errors(400, ["Error in the JQL Query: " + message])


def jql_tokens(jql):
    toks, pos = [], 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        m = JQL_TOKEN.match(jql, pos)
        if not m:
            c = jql[pos:].lstrip()[0]
            raise jql_error("The character '%s' is a reserved JQL character. You must "
                            "enclose it in a string or use the escape '\\u%04x' instead. "
                            "(line 1, character %d)" % (c, ord(c), pos + 1))
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            text = re.sub(r"\\(.)", lambda e: JQL_ESCAPES.get(e.group(1), e.group(1)), raw)
            toks.append(("str", text, m.start("str")))
        elif m.group("op") is not None:
            toks.append(("op", m.group("op"), m.start("op")))
        else:
            toks.append(("word", m.group("word"), m.start("word")))
        pos = m.end()
    return toks


def jql_parse(jql):
    """[(field, op, [values])]; a value is a string, or None for EMPTY."""
    toks, i, clauses = jql_tokens(jql), 0, []

    def at(k):
        return toks[k] if k < len(toks) else ("end", "", len(jql))

    def where(tok):
        return "(line 1, character %d)" % (tok[2] + 1)

    def value(tok):
        if tok[0] == "str":
            return tok[1]
        if tok[0] == "word":
            if tok[1].lower() in ("empty", "null"):
                return None
            return tok[1]
        raise jql_error("Expecting a value but got '%s'. %s" % (tok[1], where(tok)))
    while i < len(toks):
        if at(i)[0] == "word" and at(i)[1].lower() == "order":
            if at(i + 1)[1].lower() != "by":
                raise jql_error("Expecting 'by' but got '%s'. %s" % (at(i + 1)[1], where(at(i + 1))))
            break  # jql_order() reads the rest
        field = at(i)
        if field[0] not in ("word", "str"):
            raise jql_error("Expecting a field name but got '%s'. %s" % (field[1], where(field)))
        op = at(i + 1)
        i += 2
        if op[0] == "op" and op[1] in ("=", "!="):
            values = [value(at(i))]
            i += 1
            opname = op[1]
        elif op[0] == "word" and op[1].lower() in ("in", "not"):
            opname = "in"
            if op[1].lower() == "not":
                if at(i)[1].lower() != "in":
                    raise jql_error("Expecting 'in' but got '%s'. %s" % (at(i)[1], where(at(i))))
                opname, i = "not in", i + 1
            if at(i)[1] != "(":
                raise jql_error("Expecting '(' but got '%s'. %s" % (at(i)[1], where(at(i))))
            values, i = [], i + 1
            while True:
                values.append(value(at(i)))
                sep = at(i + 1)
                i += 2
                if sep[1] == ")":
                    break
                if sep[1] != ",":
                    raise jql_error("Expecting ',' or ')' but got '%s'. %s" % (sep[1], where(sep)))
        else:
            raise jql_error("Expecting operator but got '%s'. The valid operators are "
                            "'=', '!=', 'in' and 'not in' in this fake. %s" % (op[1], where(op)))
        clauses.append((field[1], opname, values))
        nxt = at(i)
        if nxt[0] == "end" or (nxt[0] == "word" and nxt[1].lower() == "order"):
            continue
        if nxt[0] == "word" and nxt[1].lower() == "and":
            i += 1
            continue
        raise jql_error("Expecting either 'OR' or 'AND' but got '%s'. %s" % (nxt[1], where(nxt))
                        if nxt[1].lower() != "or" else
                        "this fake understands AND only. %s" % where(nxt))
    return clauses


ORDER_FIELDS = {"created": "created", "updated": "updated", "key": "key"}


def jql_order(jql):
    """ORDER BY field [ASC|DESC], ...: [(issue field, descending)]; none: created ASC."""
    toks = jql_tokens(jql)
    words = [t[1].lower() for t in toks]
    for k in range(len(toks) - 1):
        if toks[k][0] == "word" and words[k] == "order" and words[k + 1] == "by":
            rest, order = toks[k + 2:], []
            while rest:
                field = rest.pop(0)
                name = ORDER_FIELDS.get(field[1].lower())
                if name is None:
                    raise jql_error("Field '%s' does not exist or you do not have permission "
                                    "to view it. (line 1, character %d)" % (field[1], field[2] + 1))
                desc = False
                if rest and rest[0][1].lower() in ("asc", "desc"):
                    desc = rest.pop(0)[1].lower() == "desc"
                order.append((name, desc))
                if rest and rest[0][1] == ",":
                    rest.pop(0)
                elif rest:
                    raise jql_error("Expecting ',' but got '%s'. (line 1, character %d)"
                                    % (rest[0][1], rest[0][2] + 1))
            return order
    return [("created", False)]


def jql_sorted(issues, order):
    def key_of(issue, name):
        if name == "key":
            return int(issue["key"].rsplit("-", 1)[1])
        return issue[name]
    out = list(issues)
    for name, desc in reversed(order):
        out.sort(key=lambda i: key_of(i, name), reverse=desc)
    return out


# ---- the site ----

class Site:
    def __init__(self, args):
        self.user, self.token = args.user, args.token
        self.project = args.project
        self.page_size = args.page_size
        self.issues = []
        self.next_comment = 10000
        self.tick = 0
        self.start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.users = {}
        self.me = self.person(args.user, "SRE Bot")
        self.priorities = list(PRIORITIES)

    def now(self):
        """A clock that moves a second each time it is read, so order is certain."""
        self.tick += 1
        t = self.start + datetime.timedelta(seconds=self.tick)
        return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def person(self, who, name=None):
        """The account for an e-mail address, display name or account id."""
        for u in self.users.values():
            if who in (u["accountId"], u["emailAddress"], u["displayName"]):
                return u
        email = who if "@" in who else re.sub(r"\W+", ".", who.lower()) + "@example.com"
        acct = "5b10a2844c20165700ede" + hashlib.sha1(email.encode()).hexdigest()[:3]
        u = {"accountId": acct, "emailAddress": email,
             "displayName": name or (who.split("@")[0].replace(".", " ").title() if "@" in who else who),
             "name": email.split("@")[0], "key": "JIRAUSER%d" % (10000 + len(self.users)),
             "assignable": True}
        self.users[acct] = u
        return u

    def account(self, v, ident):
        """The account a request names: by accountId on Cloud, by name on Data Center."""
        for u in self.users.values():
            if ident == (u["accountId"] if v == "3" else u["name"]):
                return u
        return None

    def priority_id(self, name):
        for i, p in enumerate(self.priorities):
            if p.lower() == name.lower():
                return str(i + 1), p
        self.priorities.append(name)
        return str(len(self.priorities)), name

    def add_issue(self, fields, reporter):
        n = len(self.issues) + 1
        now = self.now()
        issue = {
            "id": str(10000 + n), "key": "%s-%d" % (self.project, n),
            "summary": fields["summary"], "status": fields.get("status", "To Do"),
            "labels": list(fields.get("labels", [])),
            "priority": self.priority_id(fields.get("priority") or "Medium")[1],
            "assignee": self.person(fields["assignee"])["accountId"] if fields.get("assignee") else None,
            "reporter": reporter["accountId"],
            "issuetype": fields.get("issuetype", "Incident"),
            "description": fields.get("description"),
            "created": now, "updated": now, "comments": [],
        }
        self.issues.append(issue)
        return issue

    def find(self, key):
        for issue in self.issues:
            if key in (issue["key"], issue["id"]):
                return issue
        raise errors(404, [NO_ISSUE])

    # -- JSON shapes, field for field as Cloud sends them --

    def user_json(self, base, acct, v="3"):
        if acct is None:
            return None
        u = self.users[acct]
        avatar = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/" + acct
        if v == "2":
            # Data Center: a user is its name and key; there is no accountId.
            return {
                "self": "%s/rest/api/2/user?username=%s" % (base, u["name"]),
                "key": u["key"], "name": u["name"], "emailAddress": u["emailAddress"],
                "avatarUrls": {s: "%s/%s.png" % (avatar, s) for s in ("48x48", "24x24", "16x16", "32x32")},
                "displayName": u["displayName"], "active": True, "deleted": False,
                "timeZone": "Etc/UTC", "locale": "en_US",
            }
        return {
            "self": "%s/rest/api/3/user?accountId=%s" % (base, acct),
            "accountId": acct, "emailAddress": u["emailAddress"],
            "avatarUrls": {s: "%s/%s.png" % (avatar, s) for s in ("48x48", "24x24", "16x16", "32x32")},
            "displayName": u["displayName"], "active": True, "timeZone": "Etc/UTC",
            "accountType": "atlassian",
        }

    def status_json(self, base, name):
        cid, ckey, color, cname = category(name)
        sid = str(10000 + STATUSES.index(name))
        return {
            "self": "%s/rest/api/3/status/%s" % (base, sid), "description": "",
            "iconUrl": "%s/images/icons/statuses/generic.png" % base, "name": name, "id": sid,
            "statusCategory": {"self": "%s/rest/api/3/statuscategory/%d" % (base, cid), "id": cid,
                               "key": ckey, "colorName": color, "name": cname},
        }

    def project_json(self, base):
        avatar = "%s/rest/api/3/universal_avatar/view/type/project/avatar/10411" % base
        return {
            "self": "%s/rest/api/3/project/10000" % base, "id": "10000", "key": self.project,
            "name": "%s Service Desk" % self.project, "projectTypeKey": "service_desk",
            "simplified": False, "style": "classic",
            "avatarUrls": {s: "%s?size=%s" % (avatar, z) for s, z in
                           (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"), ("32x32", "medium"))},
            "projectCategory": {"self": "%s/rest/api/3/projectCategory/10000" % base, "id": "10000",
                                "description": "Operations", "name": "Operations"},
            "insight": {"totalIssueCount": len(self.issues),
                        "lastIssueUpdateTime": max((i["updated"] for i in self.issues), default=None)},
        }

    def issue_json(self, base, v, issue, fields=None):
        pid, pname = self.priority_id(issue["priority"])
        tid = next((k for k, n in ISSUE_TYPES.items() if n == issue["issuetype"]), "10001")
        desc = issue["description"]
        if v == "3" and isinstance(desc, str):
            desc = text_to_adf(desc)
        elif v == "2" and isinstance(desc, dict):
            desc = adf_to_text(desc)
        done = issue["status"] == "Done"
        every = {
            "summary": issue["summary"],
            "status": self.status_json(base, issue["status"]),
            "labels": issue["labels"],
            "priority": {"self": "%s/rest/api/3/priority/%s" % (base, pid),
                         "iconUrl": "%s/images/icons/priorities/%s.svg" % (base, pname.lower()),
                         "name": pname, "id": pid},
            "assignee": self.user_json(base, issue["assignee"], v),
            "reporter": self.user_json(base, issue["reporter"], v),
            "creator": self.user_json(base, issue["reporter"], v),
            "description": desc,
            "issuetype": {"self": "%s/rest/api/3/issuetype/%s" % (base, tid), "id": tid,
                          "description": "A problem that disrupts a service.",
                          "iconUrl": "%s/rest/api/2/universal_avatar/view/type/issuetype/avatar/10553" % base,
                          "name": issue["issuetype"], "subtask": False, "avatarId": 10553,
                          "hierarchyLevel": 0},
            "project": self.project_json(base),
            "created": issue["created"], "updated": issue["updated"],
            "resolution": {"self": "%s/rest/api/3/resolution/10000" % base, "id": "10000",
                           "description": "Work has been completed on this issue.",
                           "name": "Done"} if done else None,
            "resolutiondate": issue["updated"] if done else None,
            "watches": {"self": "%s/rest/api/3/issue/%s/watchers" % (base, issue["key"]),
                        "watchCount": 1, "isWatching": True},
            "issuelinks": [], "attachment": [], "subtasks": [],
            "worklog": {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []},
            "timetracking": {},
            "comment": {"comments": [self.comment_json(base, v, issue, c) for c in issue["comments"]],
                        "self": "%s/rest/api/%s/issue/%s/comment" % (base, v, issue["id"]),
                        "maxResults": len(issue["comments"]), "total": len(issue["comments"]),
                        "startAt": 0},
        }
        if fields is not None and not {"*all", "*navigable"} & set(fields):
            every = {k: every[k] for k in fields if k in every}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue["id"], "self": "%s/rest/api/%s/issue/%s" % (base, v, issue["id"]),
            "key": issue["key"], "fields": every,
        }

    def comment_json(self, base, v, issue, c):
        body = c["body"]
        if v == "3" and isinstance(body, str):
            body = text_to_adf(body)
        elif v == "2" and isinstance(body, dict):
            body = adf_to_text(body)
        out = {
            "self": "%s/rest/api/%s/issue/%s/comment/%s" % (base, v, issue["id"], c["id"]),
            "id": c["id"], "author": self.user_json(base, c["author"], v), "body": body,
            "updateAuthor": self.user_json(base, c["author"], v),
            "created": c["created"], "updated": c["updated"], "jsdPublic": True,
        }
        if c.get("visibility"):
            out["visibility"] = c["visibility"]
        return out

    def transition_json(self, base, to, with_fields):
        t = {
            "id": transition_id(to), "name": "Move to " + to,
            "to": self.status_json(base, to),
            "hasScreen": False, "isGlobal": True, "isInitial": False, "isAvailable": True,
            "isConditional": False, "isLooped": False,
        }
        if with_fields:
            t["fields"] = {}
        return t

    # -- JQL --

    def jql_match(self, clauses):
        def field_values(issue, field):
            f = field.lower()
            if f == "project":
                return [self.project, "%s Service Desk" % self.project, "10000"]
            if f == "labels":
                return issue["labels"]
            if f == "status":
                return [issue["status"]]
            if f == "statuscategory":
                c = category(issue["status"])
                return [str(c[0]), c[1], c[3]]
            if f == "priority":
                return [issue["priority"]]
            if f in ("assignee", "reporter"):
                acct = issue[f]
                return [] if acct is None else [acct, self.users[acct]["emailAddress"],
                                                self.users[acct]["displayName"],
                                                self.users[acct]["name"]]
            if f in ("issuetype", "type"):
                return [issue["issuetype"]]
            if f in ("key", "issue", "issuekey", "id"):
                return [issue["key"], issue["id"]]
            raise errors(400, ["Field '%s' does not exist or you do not have permission to view it." % field])

        def known(field, value):
            f = field.lower()
            if value is None or f in ("labels", "key", "issue", "issuekey", "id"):
                return True
            pool = {"project": [self.project, "10000"], "status": STATUSES,
                    "statuscategory": [str(c[0]) for c in CATEGORIES.values()] +
                    [c[1] for c in CATEGORIES.values()] + [c[3] for c in CATEGORIES.values()],
                    "priority": self.priorities, "issuetype": list(ISSUE_TYPES.values()),
                    "type": list(ISSUE_TYPES.values())}.get(f)
            if pool is None:  # a person
                return any(value.lower() in (u["accountId"].lower(), u["emailAddress"].lower(),
                                             u["displayName"].lower(), u["name"].lower())
                           for u in self.users.values())
            return value.lower() in (p.lower() for p in pool)

        resolved = []
        for field, op, values in clauses:
            vals = []
            for v in values:
                if v is not None and v.lower() == "currentuser()":
                    v = self.me["accountId"]
                if not known(field, v):
                    raise errors(400, ["The value '%s' does not exist for the field '%s'." % (v, field)])
                vals.append(v)
            resolved.append((field, op, vals))

        def test(issue):
            for field, op, values in resolved:
                have = [h.lower() for h in field_values(issue, field)]
                hit = any((v is None and not have) or (v is not None and v.lower() in have)
                          for v in values)
                if op in ("=", "in") and not hit:
                    return False
                if op in ("!=", "not in"):
                    empty_wanted = None in values
                    if hit or (not have and not empty_wanted):
                        return False
            return True
        return [i for i in self.issues if test(i)]


# ---- HTTP ----

class Handler(fakeserver.FakeHandler):
    server_version = "fake-jira/1"
    methods = ("GET", "POST", "PUT", "DELETE")
    site = None
    serialize = True  # the routes change the site
    json_type = "application/json;charset=UTF-8"
    text_type = "text/plain;charset=UTF-8"
    bare_204 = True
    fail_status = 200
    no_control = {"errorMessages": ["no such control endpoint"], "errors": {}}

    def split_target(self):
        url = urlsplit(self.path)
        return url.path, url.query

    def content_type_for(self, body):
        return None if body is None else super().content_type_for(body)

    def answer_headers(self, status, content_type):
        self.send_header("X-AREQUESTID", "fake-%d" % id(self))
        super().answer_headers(status, content_type)

    def route(self, path, query, raw):
        try:
            if not self.authenticated():
                raise Reject(401, NO_AUTH)
            status, body = self.rest(self.command, path, query, raw)
        except Reject as r:
            status, body = r.status, r.body
        return self.answer(status, body)

    def authenticated(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            who = base64.b64decode(auth[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return who == "%s:%s" % (self.site.user, self.site.token)

    def control(self, path, raw):
        site = self.site
        with self.lock:
            if self.command == "POST" and path == "/_fake/issue":
                f = json.loads(raw)
                f.setdefault("summary", "An issue made by hand")
                reporter = site.person(f["reporter"]) if f.get("reporter") else site.me
                issue = site.add_issue(f, reporter)
                return self.answer(201, site.issue_json(self.base(), "3", issue))
            if self.command == "POST" and path == "/_fake/comment":
                f = json.loads(raw)
                issue = site.find(f["issue"])
                now = site.now()
                c = {"id": str(site.next_comment), "author": site.person(f["author"])["accountId"],
                     "body": f["body"], "created": now, "updated": now, "visibility": None}
                site.next_comment += 1
                issue["comments"].append(c)
                issue["updated"] = now
                return self.answer(201, site.comment_json(self.base(), "3", issue, c))
            if self.command == "POST" and path == "/_fake/user":
                f = json.loads(raw)
                u = site.person(f["email"], f.get("displayName"))
                if f.get("name"):
                    u["name"] = f["name"]
                u["assignable"] = f.get("assignable", True)
                return self.answer(201, u)
            if self.command == "GET" and path == "/_fake/state":
                return self.answer(200, {
                    "project": site.project, "issues": site.issues, "users": site.users,
                    "failures": self.failures,
                    "workflow": {"statuses": STATUSES,
                                 "transitions": [{"id": transition_id(s), "name": "Move to " + s,
                                                  "to": s} for s in STATUSES]}})
            return super().control(path, raw)

    def base(self):
        return "http://" + self.headers.get("Host", "127.0.0.1")

    def json_body(self, raw):
        try:
            return json.loads(raw) if raw else {}
        except ValueError as e:
            raise errors(400, ["Unexpected character: %s" % e])

    def rest(self, method, path, query, raw):
        site, base = self.site, self.base()
        q = {k: v[-1] for k, v in parse_qs(query).items()}
        m = re.fullmatch(r"/rest/api/([23])(/.*)", path)
        if not m:
            raise errors(404, ["null for uri: %s%s" % (base, path)])
        v, rest = m.group(1), m.group(2)

        if rest == "/myself" and method == "GET":
            return 200, site.user_json(base, site.me["accountId"], v)

        if rest == "/issue" and method == "POST":
            return self.create(base, v, self.json_body(raw))

        m = re.fullmatch(r"/issue/([^/]+)/assignee", rest)
        if m and method == "PUT":
            return self.assign(v, site.find(unquote(m.group(1))), self.json_body(raw))

        m = re.fullmatch(r"/issue/([^/]+)(/transitions|/comment)?", rest)
        if m:
            issue = site.find(unquote(m.group(1)))
            what = m.group(2)
            if what is None and method == "GET":
                fields = q["fields"].split(",") if "fields" in q else None
                return 200, site.issue_json(base, v, issue, fields)
            if what is None and method == "PUT":
                return self.edit(issue, self.json_body(raw))
            if what == "/transitions" and method == "GET":
                with_fields = "transitions.fields" in q.get("expand", "")
                return 200, {"expand": "transitions",
                             "transitions": [site.transition_json(base, s, with_fields)
                                             for s in STATUSES if s != issue["status"]]}
            if what == "/transitions" and method == "POST":
                body = self.json_body(raw)
                tid = str((body.get("transition") or {}).get("id", ""))
                if not tid:
                    raise errors(400, ["Missing 'transition' identifier"])
                to = [s for s in STATUSES if transition_id(s) == tid and s != issue["status"]]
                if not to:
                    raise errors(400, ["Transition id '%s' is not valid for this issue." % tid])
                issue["status"] = to[0]
                issue["updated"] = site.now()
                return 204, None
            if what == "/comment" and method == "POST":
                return self.add_comment(base, v, issue, self.json_body(raw))
            if what == "/comment" and method == "GET":
                return 200, self.list_comments(base, v, issue, q)

        if rest == "/search/jql" and method in ("GET", "POST"):
            return 200, self.search_jql(base, v, q if method == "GET" else self.json_body(raw))
        if rest == "/search" and method in ("GET", "POST"):
            if v == "3":
                raise Reject(410, {"errorMessages": [
                    "The requested API has been removed. Please migrate to the "
                    "/rest/api/3/search/jql API. A full migration guideline is available at "
                    "https://developer.atlassian.com/changelog/#CHANGE-2046"], "errors": {}})
            return 200, self.search_paged(base, v, q if method == "GET" else self.json_body(raw))
        raise errors(404, ["null for uri: %s%s" % (base, path)])

    def assign(self, v, issue, body):
        """Assign issue: the account by accountId (Cloud) or name (Data Center)."""
        site = self.site
        if not isinstance(body, dict):
            raise errors(400, ["Unexpected character"])
        ident_field = "accountId" if v == "3" else "name"
        if v == "3" and ("name" in body or "key" in body):
            raise errors(400, ["'accountId' must be the only user identifying query parameter "
                               "in GDPR strict mode."])
        if ident_field not in body:
            raise errors(400, assignee="expected Object containing a '%s' property" % ident_field)
        ident = body[ident_field]
        if ident is None or ident == "-1":
            issue["assignee"] = None  # unassigned; "-1" is the project's default: none here
        else:
            u = site.account(v, ident) if isinstance(ident, str) else None
            if u is None and v == "3":
                raise errors(404, ["Specified user does not exist or you do not have "
                                   "required permissions"])
            if u is None:
                raise errors(400, assignee="User '%s' does not exist." % ident)
            if not u["assignable"]:
                raise errors(400, assignee="User '%s' cannot be assigned issues." % ident)
            issue["assignee"] = u["accountId"]
        issue["updated"] = site.now()
        return 204, None

    def edit(self, issue, body):
        """Edit issue: the "update" verbs on labels, and "fields" set outright."""
        problems = {}
        for field, ops in (body.get("update") or {}).items():
            if field != "labels":
                problems[field] = "Field '%s' cannot be set. It is not on the appropriate screen, or unknown." % field
                continue
            for op in ops:
                if "add" in op and op["add"] not in issue["labels"]:
                    if " " in op["add"]:
                        problems["labels"] = "The label '%s' contains spaces which is invalid." % op["add"]
                    else:
                        issue["labels"].append(op["add"])
                if "remove" in op and op["remove"] in issue["labels"]:
                    issue["labels"].remove(op["remove"])
                if "set" in op:
                    issue["labels"] = list(op["set"])
        for field, value in (body.get("fields") or {}).items():
            if field in ("summary", "labels"):
                issue[field] = value
            else:
                problems[field] = "Field '%s' cannot be set. It is not on the appropriate screen, or unknown." % field
        if problems:
            raise Reject(400, {"errorMessages": [], "errors": problems})
        issue["updated"] = self.site.now()
        return 204, None

    def create(self, base, v, body):
        site = self.site
        f = body.get("fields") or {}
        problems = {}
        project = f.get("project") or {}
        if project.get("key", project.get("id")) not in (site.project, "10000"):
            problems["project"] = "Specify a valid project ID or key"
        itype = f.get("issuetype") or {}
        if itype.get("id") in ISSUE_TYPES:
            itype_name = ISSUE_TYPES[itype["id"]]
        else:
            itype_name = next((n for n in ISSUE_TYPES.values()
                               if n.lower() == str(itype.get("name", "")).lower()), None)
        if not itype_name:
            problems["issuetype"] = "Specify an issue type"
        if not f.get("summary"):
            problems["summary"] = "You must specify a summary of the issue."
        desc = f.get("description")
        if desc is not None and v == "3" and not is_adf(desc):
            problems["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        if desc is not None and v == "2" and not isinstance(desc, str):
            problems["description"] = "Operation value must be a string"
        text = adf_to_text(desc) if isinstance(desc, dict) else desc
        if isinstance(text, str) and len(text) > 32767:
            problems["description"] = ("The entered text is too long. It exceeds the allowed "
                                       "limit of 32,767 characters.")
        labels = f.get("labels") or []
        if any(not isinstance(label, str) or re.search(r"\s", label) for label in labels):
            problems["labels"] = "The label must not contain spaces."
        if problems:
            raise errors(400, **problems)
        issue = site.add_issue({"summary": f["summary"], "labels": labels, "description": desc,
                                "issuetype": itype_name,
                                "priority": (f.get("priority") or {}).get("name"),
                                "assignee": (f.get("assignee") or {}).get("accountId")},
                               site.me)
        out = {"id": issue["id"], "key": issue["key"],
               "self": "%s/rest/api/%s/issue/%s" % (base, v, issue["id"])}
        if body.get("transition"):
            tid = str(body["transition"].get("id"))
            to = [s for s in STATUSES if transition_id(s) == tid]
            if to:
                issue["status"] = to[0]
            out["transition"] = {"status": 200 if to else 400, "errorCollection": {
                "errorMessages": [] if to else ["Transition id '%s' is not valid for this issue." % tid],
                "errors": {}}}
        return 201, out

    def add_comment(self, base, v, issue, body):
        site = self.site
        b = body.get("body")
        if (v == "3" and not is_adf(b)) or (v == "2" and not isinstance(b, str)) or not b:
            raise errors(400, comment="Comment body can not be empty!" if not b else
                         "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                         if v == "3" else "Operation value must be a string")
        now = site.now()
        c = {"id": str(site.next_comment), "author": site.me["accountId"], "body": b,
             "created": now, "updated": now, "visibility": body.get("visibility")}
        site.next_comment += 1
        issue["comments"].append(c)
        issue["updated"] = now
        return 201, site.comment_json(base, v, issue, c)

    def list_comments(self, base, v, issue, q):
        site = self.site
        start, limit = int(q.get("startAt", 0)), int(q.get("maxResults", 5000))
        if site.page_size:
            limit = min(limit, site.page_size)
        comments = list(issue["comments"])
        if q.get("orderBy", "created").startswith("-"):
            comments.reverse()
        page = comments[start:start + limit]
        return {"startAt": start, "maxResults": limit, "total": len(comments),
                "comments": [site.comment_json(base, v, issue, c) for c in page]}

    def page_of(self, req, default):
        limit = int(req.get("maxResults", default))
        if self.site.page_size:
            limit = min(limit, self.site.page_size)
        fields = req.get("fields")
        if isinstance(fields, str):
            fields = fields.split(",")
        return limit, fields

    def search_jql(self, base, v, req):
        site = self.site
        jql = req.get("jql") or ""
        found = jql_sorted(site.jql_match(jql_parse(jql)), jql_order(jql))
        limit, fields = self.page_of(req, 50)
        digest = hashlib.sha1(jql.encode()).hexdigest()[:12]
        start = 0
        if req.get("nextPageToken"):
            try:
                off, tag = base64.urlsafe_b64decode(req["nextPageToken"]).decode().split(":")
                start = int(off)
                assert tag == digest
            except (ValueError, AssertionError):
                raise errors(400, ["The provided next page token is invalid or expired."])
        page = found[start:start + limit]
        last = start + limit >= len(found)
        # Cloud's enhanced search returns only the issue id unless asked for more.
        out = {"issues": [site.issue_json(base, v, i, fields or ["id"]) for i in page],
               "nextPageToken": None if last else
               base64.urlsafe_b64encode(("%d:%s" % (start + limit, digest)).encode()).decode(),
               "isLast": last}
        return out

    def search_paged(self, base, v, req):
        site = self.site
        jql = req.get("jql") or ""
        found = jql_sorted(site.jql_match(jql_parse(jql)), jql_order(jql))
        limit, fields = self.page_of(req, 50)
        start = int(req.get("startAt", 0))
        return {"expand": "names,schema", "startAt": start, "maxResults": limit,
                "total": len(found),
                "issues": [site.issue_json(base, v, i, fields) for i in found[start:start + limit]]}


def main():
    p = fakeserver.arguments("a fake JIRA site for sre's tests")
    p.add_argument("--user", default="bot@example.com")
    p.add_argument("--token", default="test-token")
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--project", default="OPS")
    args = p.parse_args()

    Handler.site = Site(args)
    sys.exit(fakeserver.serve(Handler, args))


if __name__ == "__main__":
    main()
