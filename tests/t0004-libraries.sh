#!/bin/sh
test_description='libcurl and libgit2 are loaded on first use: not by commands that need neither, and a library that cannot be loaded is a clear error'
. "$(dirname "$0")/test-lib.sh"

# glibc's loader names each library it opens when LD_DEBUG=files; the
# report goes to stderr, with sre's own messages.
if ! LD_DEBUG=files sre version 2>debug >/dev/null || ! grep -q "file=libsqlite3" debug; then
	skip_all "the dynamic loader does not report what it loads (LD_DEBUG=files)"
fi

command -v cc >/dev/null 2>&1 && test_set_prereq CC

test_expect_success 'version --build-options names the two sonames loaded on first use' '
	sre version --build-options >out &&
	test_grep "^sre version " out &&
	sed -n "s/^libcurl: \(libcurl[^,]*\.so\.[0-9.]*\), loaded by the first request$/\1/p" out >curl-soname &&
	sed -n "s/^libgit2: \(libgit2[^,]*\.so\.[0-9.]*\), loaded when a repository is first opened$/\1/p" out >git-soname &&
	test_line_count = 1 curl-soname &&
	test_line_count = 1 git-soname
'

# run_traced <name> <command...>: run it, with its stdout in <name>.out,
# its stderr (the loader's report included) in <name>.raw and the
# libraries the loader opened in <name>.libs.
run_traced() {
	name=$1
	shift
	LD_DEBUG=files "$@" >"$name.out" 2>"$name.raw" || return 1
	grep "file=" "$name.raw" >"$name.libs"
}

loaded() {
	grep -q "file=$(cat "$2")" "$1.libs"
}

test_expect_success 'help, version, config and incident with no tracker load neither' '
	run_traced version sre --version &&
	run_traced help sre help &&
	run_traced config sre config --list &&
	run_traced open sre incident open --service web --title "web is down" &&
	run_traced list sre incident list &&
	run_traced show sre incident show 1 &&
	for c in version help config open list show
	do
		test_grep "file=libsqlite3" $c.libs &&
		! loaded $c curl-soname &&
		! loaded $c git-soname || return 1
	done &&
	test_grep "web is down" list.out
'

test_expect_success 'a request loads libcurl, and only then' '
	mkdir -p .sre &&
	cat >.sre/config <<-EOT &&
	[check "web"]
		url = http://127.0.0.1:1/health
		timeout = 2s
	EOT
	run_traced scout sre scout &&
	loaded scout curl-soname &&
	! loaded scout git-soname &&
	sre incident list >list &&
	test_grep "web" list
'

test_expect_success 'setup: a repository whose recent commit touches the service' '
	git init -q repo &&
	mkdir repo/web &&
	echo "replicas: 2" >repo/web/deploy.yaml &&
	git -C repo add web &&
	ten_minutes_ago="$(($(date +%s) - 600)) +0000" &&
	GIT_COMMITTER_DATE=$ten_minutes_ago GIT_AUTHOR_DATE=$ten_minutes_ago \
		git -C repo -c user.name=A -c user.email=a@example.com commit -q -m "web: two replicas" &&
	cat >.sre/config <<-EOT
	[core]
		repo = $PWD/repo
	[service "web"]
		paths = web/
	EOT
'

test_expect_success 'opening a repository loads libgit2' '
	run_traced diagnose sre diagnose --json 1 &&
	loaded diagnose git-soname &&
	test_grep "web: two replicas" diagnose.out
'

# A directory listed first in LD_LIBRARY_PATH with a file of the soname's
# name that is not a library: what a broken or half-removed install looks
# like to the loader.
test_expect_success 'a libcurl that cannot be loaded: scout says which and why, exits 128 and opens nothing' '
	mkdir -p broken &&
	echo "not a library" >"broken/$(cat curl-soname)" &&
	cat >.sre/config <<-EOT &&
	[check "web"]
		url = http://127.0.0.1:1/health
		timeout = 2s
	EOT
	sre incident list --json >before &&
	test_expect_code 128 env LD_LIBRARY_PATH="$PWD/broken" sre scout >out 2>err &&
	test_grep "cannot load $(cat curl-soname): .*broken/$(cat curl-soname)" err &&
	test $(grep -c "cannot load" err) = 1 &&
	sre incident list --json >after &&
	test_cmp before after
'

test_expect_success 'a libgit2 that cannot be loaded: diagnose says so in its evidence and finishes' '
	mkdir -p broken-git &&
	echo "not a library" >"broken-git/$(cat git-soname)" &&
	cat >.sre/config <<-EOT &&
	[core]
		repo = $PWD/repo
	[service "web"]
		paths = web/
	EOT
	LD_LIBRARY_PATH=$PWD/broken-git sre diagnose --json 1 >out 2>err &&
	test_grep "cannot load $(cat git-soname): " err &&
	test_grep "git: libgit2: cannot load $(cat git-soname)" out
'

test_expect_success CC 'a libcurl without one of the functions sre calls: named in the error' '
	cat >stub.c <<-EOT &&
	int curl_global_init(long flags) { return 0; }
	EOT
	mkdir -p stub &&
	cc -shared -fPIC -o "stub/$(cat curl-soname)" -Wl,-soname,"$(cat curl-soname)" stub.c &&
	cat >.sre/config <<-EOT &&
	[check "web"]
		url = http://127.0.0.1:1/health
		timeout = 2s
	EOT
	test_expect_code 128 env LD_LIBRARY_PATH="$PWD/stub" sre scout >out 2>err &&
	test_grep "cannot load $(cat curl-soname): it has no curl_" err
'

test_done
