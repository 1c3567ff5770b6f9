#!/bin/sh
test_description='sre remember push and pull: two stores sharing what they learnt through one bare repository'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v git >/dev/null 2>&1; then
	skip_all "no git to make the shared repository with"
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip_all "no sqlite3 to read the stores with"
fi
if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for field() and the fake https remote"
fi

GIT_CONFIG_NOSYSTEM=1; export GIT_CONFIG_NOSYSTEM
SRE_NOW=2026-11-24T05:07:00Z; export SRE_NOW
SHARED="$TRASH_DIRECTORY/shared.git"

# Store A and store B: two --db files, each its own memory origin, and
# each its remember.repo beside it (a/memory, b/memory).
sre_a() { sre --db a/sre.db "$@"; }
sre_b() { sre --db b/sre.db "$@"; }

# A resolved incident in store $1 ("a" or "b") with title $2.
resolved() {
	id=$(sre --db "$1/sre.db" incident open -s "$3" -t "$2") &&
	sre --db "$1/sre.db" incident resolve "$id" 2>/dev/null
}

# The origin a store's records go under, from its own remember.repo.
origin_of() {
	sqlite3 "$1/sre.db" "SELECT value FROM memory_state WHERE key = 'origin'"
}

test_expect_success 'two stores, each with a resolved incident' '
	mkdir a b &&
	resolved a "Checkout returns 503" checkout &&
	resolved b "Disk full on db-1" db &&
	git init -q --bare shared.git
'

test_expect_success 'push with nothing resolved has nothing to commit' '
	mkdir c &&
	sre --db c/sre.db incident open -s web -t "Still open" >/dev/null &&
	sre --db c/sre.db remember push >out 2>err &&
	test_line_count = 0 out &&
	test_grep "nothing new to commit to c/memory; remember.remote is not set" err &&
	! test -e c/memory
'

test_expect_success 'push without remember.remote commits to remember.repo only, and says so' '
	sre_a remember push >out 2>err &&
	cat >expect <<-\EOF &&
	incidents/ORIGIN/2026/1-checkout-returns-503.json
	incidents/ORIGIN/2026/1-checkout-returns-503.md
	EOF
	sed "s|^incidents/[^/]*/|incidents/ORIGIN/|" out >actual &&
	test_cmp expect actual &&
	test_grep "committed 1 incident to a/memory; remember.remote is not set, so nothing was pushed" err &&
	test "$(git --git-dir=a/memory rev-parse --is-bare-repository)" = true &&
	git --git-dir=a/memory ls-tree -r --name-only main >tree &&
	test_cmp out tree &&
	test "$(git --git-dir=a/memory rev-list --count main)" = 1 &&
	git --git-dir=a/memory log -1 --format=%B main >msg &&
	test_grep "^sre remember push: 1 incident from $(origin_of a)$" msg &&
	test_grep "^1 Checkout returns 503$" msg
'

test_expect_success 'the record is the incident, redacted, naming its origin' '
	oa=$(origin_of a) &&
	case "$oa" in *-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;; *) false ;; esac &&
	git --git-dir=a/memory show "main:incidents/$oa/2026/1-checkout-returns-503.json" >rec.json &&
	test "$(field rec.json origin)" = "$oa" &&
	test "$(field rec.json id)" = 1 &&
	test "$(field rec.json title)" = "Checkout returns 503" &&
	test "$(field rec.json state)" = INCIDENT_RESOLVED &&
	git --git-dir=a/memory show "main:incidents/$oa/2026/1-checkout-returns-503.md" >pm.md &&
	test_grep "^# Post-mortem: incident 1: Checkout returns 503$" pm.md &&
	test "$(sqlite3 a/sre.db "SELECT pushed_at FROM memory WHERE origin = '\''local'\'' AND incident_id = 1")" = 2026-11-24T05:07:00Z
'

test_expect_success 'a secret in a title never reaches the repository' '
	resolved a "Login fails: password=hunter2secret in the DSN" auth &&
	sre_a remember push >out 2>err &&
	test_grep "/2-login-fails-password-redacted-password-in-the.json$" out &&
	git --git-dir=a/memory show main >commit &&
	test_grep ! hunter2secret commit &&
	test_grep "^+# Post-mortem: incident 2: Login fails: password=" commit &&
	git --git-dir=a/memory log --format=%B main >msgs &&
	test_grep ! hunter2secret msgs
'

test_expect_success 'push --dry-run prints what it would write and changes nothing' '
	resolved a "Payments p99 over 2s" payments &&
	before=$(git --git-dir=a/memory rev-parse main) &&
	sre_a remember push --dry-run >out 2>err &&
	test_line_count = 2 out &&
	test_grep "/2026/3-payments-p99-over-2s.json$" out &&
	test_grep "/2026/3-payments-p99-over-2s.md$" out &&
	test_grep "would commit 1 incident (2 files) to a/memory" err &&
	test "$(git --git-dir=a/memory rev-parse main)" = "$before" &&
	test "$(sqlite3 a/sre.db "SELECT count(*) FROM memory WHERE origin = '\''local'\'' AND incident_id = 3 AND pushed_at IS NOT NULL")" = 0
'

test_expect_success 'push sends the records to the shared repository' '
	sre_a -c remember.remote="$SHARED" remember push >out 2>err &&
	test_line_count = 2 out &&
	test_grep "pushed 1 new incident to remember.remote (1 push)" err &&
	oa=$(origin_of a) &&
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	test_line_count = 6 tree &&
	test_grep "^incidents/$oa/2026/1-checkout-returns-503.json$" tree &&
	test_grep "^incidents/$oa/2026/3-payments-p99-over-2s.md$" tree &&
	test "$(git --git-dir=shared.git rev-parse main)" = "$(git --git-dir=a/memory rev-parse main)" &&
	test "$(sqlite3 a/sre.db "SELECT count(*) FROM memory WHERE origin = '\''local'\'' AND pushed_at IS NULL")" = 0
'

test_expect_success 'a second push makes no commit' '
	before=$(git --git-dir=shared.git rev-parse main) &&
	sre_a -c remember.remote="$SHARED" remember push >out 2>err &&
	test_line_count = 0 out &&
	test_grep "remember.remote is up to date" err &&
	test "$(git --git-dir=shared.git rev-parse main)" = "$before" &&
	test "$(git --git-dir=a/memory rev-parse main)" = "$before"
'

test_expect_success 'B, which never fetched, is refused once, replays its commit on A'"'"'s and pushes' '
	head_a=$(git --git-dir=shared.git rev-parse main) &&
	sre_b -c remember.remote="$SHARED" remember push >out 2>err &&
	test_grep "pushed 1 new incident to remember.remote (2 pushes)" err &&
	oa=$(origin_of a) && ob=$(origin_of b) &&
	test "$oa" != "$ob" &&
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	test_line_count = 8 tree &&
	test_grep "^incidents/$ob/2026/1-disk-full-on-db-1.json$" tree &&
	test_grep "^incidents/$oa/2026/1-checkout-returns-503.json$" tree &&
	test "$(git --git-dir=shared.git rev-parse main^)" = "$head_a" &&
	git --git-dir=shared.git rev-list --merges main >merges &&
	test_line_count = 0 merges &&
	git --git-dir=shared.git log -1 --format=%B main >msg &&
	test_grep "from $ob" msg &&
	git --git-dir=shared.git fsck --no-progress
'

test_expect_success 'A pulls B'"'"'s record, and finds it' '
	sre_a -c remember.remote="$SHARED" remember pull >out 2>err &&
	test_line_count = 0 out &&
	test_grep "pulled 1 record from 1 other host: 1 added or refreshed, 0 unchanged" err &&
	sre_a remember search --json disk >hits &&
	test "$(field hits 0 title)" = "Disk full on db-1" &&
	test "$(field hits 0 origin)" = "$(origin_of b)"
'

test_expect_success 'B pulls A'"'"'s records' '
	sre_b -c remember.remote="$SHARED" remember pull 2>err &&
	test_grep "pulled 3 records from 1 other host: 3 added or refreshed, 0 unchanged" err &&
	sre_b remember search --json checkout >hits &&
	test "$(field hits 0 title)" = "Checkout returns 503" &&
	test "$(field hits 0 origin)" = "$(origin_of a)"
'

test_expect_success 'pull again changes nothing' '
	sre_a -c remember.remote="$SHARED" remember pull 2>err &&
	test_grep "pulled 1 record from 1 other host: 0 added or refreshed, 1 unchanged" err &&
	test "$(sqlite3 a/sre.db "SELECT count(*) FROM memory WHERE origin != '\''local'\''")" = 1
'

test_expect_success 'a file:// URL serves as the path does' '
	sre_b -c remember.remote="file://$SHARED" remember pull 2>err &&
	test_grep "pulled 3 records from 1 other host: 0 added or refreshed, 3 unchanged" err &&
	sre_b -c remember.remote="file://$SHARED" remember push 2>err &&
	test_grep "remember.remote is up to date" err
'

test_expect_success 'after a pull, a push needs no retry' '
	resolved b "Disk full on db-2" db &&
	sre_b -c remember.remote="$SHARED" remember push 2>err &&
	test_grep "pushed 1 new incident to remember.remote (1 push)" err &&
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	test_line_count = 10 tree
'

test_expect_success 'a remote that cannot be reached: a clear error, nothing marked pushed' '
	resolved a "Cache stampede" cache &&
	test_expect_code 128 sre_a -c remember.remote="$TRASH_DIRECTORY/nowhere.git" remember push >out 2>err &&
	test_line_count = 0 out &&
	test_grep "remember.remote .*nowhere.git cannot be reached" err &&
	test_grep "nothing was marked pushed" err &&
	test_grep "^fatal: " err &&
	test "$(sqlite3 a/sre.db "SELECT pushed_at IS NULL FROM memory WHERE origin = '\''local'\'' AND incident_id = 4")" = 1 &&
	test_expect_code 128 sre_a -c remember.remote="https://127.0.0.1:1/k.git" remember push 2>err &&
	test_grep "push to remember.remote (https://127.0.0.1:1/k.git)" err &&
	test "$(sqlite3 a/sre.db "SELECT pushed_at IS NULL FROM memory WHERE origin = '\''local'\'' AND incident_id = 4")" = 1 &&
	sre_a -c remember.remote="$SHARED" remember push 2>err &&
	test_grep "pushed 1 new incident to remember.remote (2 pushes)" err &&
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	test_grep "/4-cache-stampede.json$" tree &&
	test "$(sqlite3 a/sre.db "SELECT pushed_at IS NULL FROM memory WHERE origin = '\''local'\'' AND incident_id = 4")" = 0
'

test_expect_success 'A, having pulled, pushes after B moved the remote on: refused, replayed, pushed' '
	sre_a -c remember.remote="$SHARED" remember pull 2>err &&
	resolved b "Queue backlog on orders" orders &&
	sre_b -c remember.remote="$SHARED" remember push 2>err &&
	resolved a "TLS certificate expired" tls &&
	sre_a -c remember.remote="$SHARED" remember push 2>err &&
	test_grep "pushed 1 new incident to remember.remote (2 pushes)" err &&
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	test_grep "/3-queue-backlog-on-orders.json$" tree &&
	test_grep "/5-tls-certificate-expired.json$" tree &&
	git --git-dir=shared.git rev-list --merges main >merges &&
	test_line_count = 0 merges
'

# Both at once, on one file system: each moves main by a compare-and-swap,
# so neither drops the other's commit; whatever gives up is pushed next time.
push_loop() {
	for i in 1 2 3; do
		resolved "$1" "Parallel $1 $i" par &&
		sre --db "$1/sre.db" -c remember.remote="$SHARED" remember push >/dev/null 2>>"$1.loop" ||
		echo "push $i gave up" >>"$1.loop"
	done
}

push_both() {
	push_loop a &
	pa=$!
	push_loop b &
	pb=$!
	wait $pa && wait $pb
}

test_expect_success 'two stores pushing at the same time lose nothing' '
	push_both &&
	sre_a -c remember.remote="$SHARED" remember push 2>err &&
	sre_b -c remember.remote="$SHARED" remember push 2>err &&
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	for who in a b; do
		for i in 1 2 3; do
			test_grep "parallel-$who-$i.json$" tree || return 1
		done
	done &&
	git --git-dir=shared.git rev-list --merges main >merges &&
	test_line_count = 0 merges &&
	git --git-dir=shared.git for-each-ref refs/sre >incoming &&
	test_line_count = 0 incoming
'

test_expect_success 'a URL with credentials in it is refused without printing them' '
	test_expect_code 128 sre_a -c remember.remote=https://ghp_s3cr3t0123456789@github.com/acme/k.git \
		remember push >out 2>err &&
	test_grep "remember.remote has credentials in its URL" err &&
	test_grep ! ghp_s3cr3t0123456789 err &&
	test_grep ! ghp_s3cr3t0123456789 out &&
	test_expect_code 128 sre_a -c remember.remote=https://bob:hunter2pw@github.com/acme/k.git \
		remember pull 2>err &&
	test_grep "credentials" err &&
	test_grep ! hunter2pw err
'

test_expect_success 'another remote, still empty, has no records: what the first held is not read as its' '
	git init -q --bare empty.git &&
	sre_b -c remember.remote="$TRASH_DIRECTORY/empty.git" remember pull >out 2>err &&
	test_grep "remember.remote has no records yet" err &&
	test_line_count = 0 out
'

# A git server over http on loopback that asks for credentials, as a
# private repository does. Started here: a test runs in a subshell.
start_fake hostile --mode status --status 401 --header 'WWW-Authenticate: Basic realm="git"' ||
	{ echo "Bail out! the fake git server did not start"; exit 1; }
TOKEN=ghp_rememberpushtoken0123456789

test_expect_success 'the push token goes only to github.api'"'"'s host' '
	test_expect_code 128 env GITHUB_TOKEN=$TOKEN sre --db a/sre.db -c remember.remote="$FAKE_URL/acme/k.git" \
		remember push 2>err &&
	test_grep "the push token goes only to github.com (github.api), not to 127.0.0.1" err &&
	test_grep ! "$TOKEN" err &&
	test_grep "\"path\": \"/acme/k.git/info/refs?service=git-receive-pack\"" "$FAKE_LOG"
'

test_expect_success 'and is offered to it once, and no more when refused' '
	: >"$FAKE_LOG" &&
	test_expect_code 128 env GITHUB_TOKEN=$TOKEN sre --db a/sre.db -c remember.remote="$FAKE_URL/acme/k.git" \
		-c github.api="$FAKE_URL" remember push 2>err &&
	test_grep "the token was refused" err &&
	test_grep ! "$TOKEN" err &&
	test "$(grep -c "info/refs" "$FAKE_LOG")" = 2
'
stop_fake

test_expect_success 'pull without remember.remote says there is nothing to pull from' '
	test_expect_code 128 sre_a remember pull 2>err &&
	test_grep "remember.remote is not set" err
'

test_expect_success 'push and pull take no arguments' '
	test_expect_code 129 sre_a remember push extra 2>err &&
	test_grep "unexpected argument" err &&
	test_expect_code 129 sre_a remember pull extra 2>err &&
	test_grep "unexpected argument" err
'

# A remote as a hostile host might leave it: every kind of bad entry
# beside one good record, and a forged record under A's own origin.
test_expect_success 'a hostile remote' '
	oa=$(origin_of a) && ob=$(origin_of b) &&
	git init -q -b main hostile &&
	mkdir -p hostile/incidents/evil-1/2026 hostile/incidents/$oa/2026 \
		hostile/incidents/Bad_Name/2026 hostile/incidents/local/2026 &&
	git --git-dir=shared.git show "main:incidents/$ob/2026/1-disk-full-on-db-1.json" |
		sed -e "s/\"$ob\"/\"evil-1\"/" -e "s/Disk full on db-1/Hostile but valid/" \
		>hostile/incidents/evil-1/2026/1-hostile-but-valid.json &&
	sed -e "s/\"evil-1\"/\"$oa\"/" -e "s/Hostile but valid/Forged under A/" \
		hostile/incidents/evil-1/2026/1-hostile-but-valid.json \
		>hostile/incidents/$oa/2026/99-forged-under-a.json &&
	sed -e "s/\"evil-1\"/\"$ob\"/" -e "s/Hostile but valid/Claims to be B/" \
		hostile/incidents/evil-1/2026/1-hostile-but-valid.json \
		>hostile/incidents/evil-1/2026/2-claims-to-be-b.json &&
	printf "{\"id\": 3, \"title\": " >hostile/incidents/evil-1/2026/3-truncated.json &&
	ln -s /etc/passwd hostile/incidents/evil-1/2026/4-link.json &&
	python3 -c "import sys; sys.stdout.write(\"{\\\"id\\\": 5, \\\"pad\\\": \\\"\" + \"x\" * (2 << 20) + \"\\\"}\")" \
		>hostile/incidents/evil-1/2026/5-huge.json &&
	cp hostile/incidents/evil-1/2026/1-hostile-but-valid.json hostile/incidents/Bad_Name/2026/1-x.json &&
	cp hostile/incidents/evil-1/2026/1-hostile-but-valid.json hostile/incidents/local/2026/1-x.json &&
	git -C hostile add -A &&
	git -C hostile -c user.name=evil -c user.email=evil@example.com commit -q -m evil &&
	# and a directory named "..", which only plumbing can make
	inner=$(git -C hostile rev-parse HEAD:incidents/evil-1) &&
	{ git -C hostile ls-tree HEAD:incidents && printf "040000 tree %s\t..\n" "$inner"; } >entries &&
	incidents=$(git -C hostile mktree <entries) &&
	printf "040000 tree %s\tincidents\n" "$incidents" >root &&
	root=$(git -C hostile mktree <root) &&
	commit=$(echo evil | git -C hostile -c user.name=evil -c user.email=evil@example.com commit-tree "$root" -p HEAD) &&
	git -C hostile update-ref refs/heads/main "$commit" &&
	git clone -q --bare hostile hostile.git &&
	git --git-dir=hostile.git ls-tree --name-only main:incidents >dirs &&
	test_grep "^\.\.$" dirs
'

test_expect_success 'pulling it indexes the good record alone, with a warning for each bad entry' '
	sre_a -c remember.remote="$TRASH_DIRECTORY/hostile.git" -c remember.repo="$TRASH_DIRECTORY/a-hostile" \
		remember pull >out 2>err &&
	test_line_count = 0 out &&
	test_grep "incidents/\.\. is not an origin.s name: skipped" err &&
	test_grep "incidents/Bad_Name is not an origin.s name: skipped" err &&
	test_grep "incidents/local is not an origin.s name: skipped" err &&
	test_grep "2-claims-to-be-b.json claims to come from another origin than evil-1: skipped" err &&
	test_grep "3-truncated.json is not a JSON object: skipped" err &&
	test_grep "4-link.json is a symbolic link: skipped" err &&
	test_grep "5-huge.json is larger than 1024 KiB: skipped" err &&
	test_grep ! "Forged under A" err &&
	test_grep ! "root:" err &&
	test_grep "pulled 1 record from 1 other host: 1 added or refreshed, 0 unchanged, 7 entries skipped" err &&
	sre_a remember search --json hostile >hits &&
	test "$(field hits 0 origin)" = evil-1 &&
	test "$(field hits 0 title)" = "Hostile but valid" &&
	test_expect_code 1 sre_a remember search forged >/dev/null &&
	test_expect_code 1 sre_a remember search claims >/dev/null &&
	test "$(sqlite3 a/sre.db "SELECT count(*) FROM memory WHERE origin NOT IN ('\''local'\'', '\''evil-1'\'', '\''$(origin_of b)'\'')")" = 0
'

test_expect_success 'the shared repository and A'"'"'s own stayed as they were' '
	git --git-dir=shared.git ls-tree -r --name-only main >tree &&
	test_grep ! evil tree &&
	git --git-dir=a/memory ls-tree -r --name-only main >tree &&
	test_grep ! evil tree
'

test_expect_success 'nor does the token sre would push with, whatever its shape' '
	resolved a "Deploy hook echoed plainvalue7f3k9q2 into the log" deploy &&
	GITHUB_TOKEN=plainvalue7f3k9q2 sre_a remember push >out 2>err &&
	test_line_count = 2 out &&
	git --git-dir=a/memory show main >commit &&
	test_grep "credential" commit &&
	test_grep ! plainvalue7f3k9q2 commit &&
	test_grep ! plainvalue7f3k9q2 out
'

test_done
