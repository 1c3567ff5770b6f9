#!/bin/sh
test_description='credential references: a secret key set to op://, pass: or env: is read only after a person approves it; every command but sre diagnose -i refuses it, saying so, and no secret is printed'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-fake.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip_all "no python3 for the fakes"
fi

PROM_SECRET=prom-reference-0123456789secret
PASS_SECRET=pass-reference-9876543210secret
APPROVE="prometheus.token is a credential reference: it is resolved only after a person approves it, in sre diagnose -i (/approve)"

echo '{"up": 1}' >scenario.json
start_fake prometheus --bearer-token "$PROM_SECRET" --data scenario.json ||
	{ echo "Bail out! the fake Prometheus did not start"; exit 1; }
PROM_URL=$FAKE_URL PROM_LOG=$FAKE_LOG

# The variable the reference names holds the real token; the one sre reads
# for prometheus.token directly is unset, so only the reference can give it.
PROM_TOKEN=$PROM_SECRET; export PROM_TOKEN
unset PROMETHEUS_TOKEN PROMETHEUS_PASSWORD

# A pass that logs its argv and prints the secret, first on PATH.
mkdir bin &&
cat >bin/pass <<EOT &&
#!/bin/sh
for a; do printf '[%s]' "\$a"; done >>"$TRASH_DIRECTORY/pass.argv"
echo >>"$TRASH_DIRECTORY/pass.argv"
printf '%s\n' '$PASS_SECRET'
EOT
chmod +x bin/pass || { echo "Bail out! cannot write the fake pass"; exit 1; }
PATH="$TRASH_DIRECTORY/bin:$PATH"; export PATH

# Nothing of the test's secrets in the files named.
no_secret() {
	for s in "$PROM_SECRET" "$PASS_SECRET"; do
		test_grep ! -F -- "$s" "$@" || return 1
	done
}

# The configuration, with the lines given as prometheus.token's.
write_config() {
	mkdir -p "$XDG_CONFIG_HOME/sre" &&
	cat >"$XDG_CONFIG_HOME/sre/config" <<-EOT
	[prometheus]
		url = $PROM_URL
		$1
	[check "up"]
		prometheus = up
		below = 1
	EOT
}

test_expect_success 'setup: a Prometheus check, its token given directly: the fake gets it' '
	write_config "" &&
	PROMETHEUS_TOKEN=$PROM_SECRET sre scout >out 2>err &&
	test_grep "Bearer $PROM_SECRET" "$PROM_LOG" &&
	no_secret out err &&
	: >"$PROM_LOG"
'

test_expect_success 'prometheus.token = env:PROM_TOKEN and nobody to approve: scout refuses, says where to approve' '
	write_config "token = env:PROM_TOKEN" &&
	test_expect_code 128 sre scout >out 2>err &&
	test_grep -F "error: $APPROVE" err &&
	test_grep "^error: prometheus: cannot read the token" err &&
	no_secret out err &&
	test_grep ! "Bearer" "$PROM_LOG"
'

test_expect_success 'sre doctor says the same, and reports prometheus broken' '
	test_expect_code 1 sre doctor >out 2>err &&
	test_grep -F "$APPROVE" err &&
	test_grep "^prometheus  *broken .*cannot read the token" out &&
	no_secret out err &&
	test_grep ! "Bearer" "$PROM_LOG"
'

test_expect_success 'the variable sre reads for the key still wins over the reference, unasked' '
	PROMETHEUS_TOKEN=$PROM_SECRET sre scout >out 2>err &&
	test_grep ! "credential reference" err &&
	test_grep "Bearer $PROM_SECRET" "$PROM_LOG" &&
	no_secret out err &&
	: >"$PROM_LOG"
'

test_expect_success 'pass: is refused the same way, and pass never runs' '
	rm -f pass.argv &&
	test_expect_code 128 sre -c prometheus.token=pass:team/prom scout >out 2>err &&
	test_grep -F "$APPROVE" err &&
	! test -e pass.argv &&
	no_secret out err &&
	test_grep ! "Bearer" "$PROM_LOG"
'

test_expect_success 'a malformed reference is refused for what it is, and runs nothing' '
	test_expect_code 128 sre -c "prometheus.token=pass:../../etc/shadow" scout >out 2>err &&
	test_grep "prometheus.token: a pass: reference is a path in the password store" err &&
	test_expect_code 128 sre -c prometheus.token=env:NOT-A-NAME scout >out 2>err &&
	test_grep "prometheus.token: an env: reference names an environment variable" err &&
	test_expect_code 128 sre -c prometheus.token=op://-flag scout >out 2>err &&
	test_grep "prometheus.token: an op:// reference is op://vault/item/field" err &&
	! test -e pass.argv
'

test_expect_success 'a password manager that is not installed is named, with where to get it' '
	mkdir -p empty &&
	test_expect_code 128 env PATH="$TRASH_DIRECTORY/empty" "$SRE_BUILD_DIR/sre" \
		-c prometheus.token=op://ops/prom/token scout 2>err &&
	test_grep "prometheus.token is an op:// reference, but op, the 1Password CLI, is not installed" err &&
	test_expect_code 128 env PATH="$TRASH_DIRECTORY/empty" "$SRE_BUILD_DIR/sre" \
		-c prometheus.token=pass:team/prom scout 2>err &&
	test_grep "prometheus.token is a pass: reference, but pass is not installed (the Debian package \"pass\")" err
'

test_expect_success 'a reference in a clone'"'"'s own .sre/config is ignored outside safe.directory' '
	mkdir -p clone/.sre &&
	printf "[prometheus]\n\ttoken = env:PROM_TOKEN\n" >clone/.sre/config &&
	write_config "" &&
	test_expect_code 128 sre -C clone scout >out 2>err &&
	test_grep "^warning: ignoring prometheus.token from $TRASH_DIRECTORY/clone/.sre/config: add" err &&
	test_grep ! "credential reference" err &&
	test_grep ! "Bearer" "$PROM_LOG" &&
	no_secret out err &&
	: >"$PROM_LOG" &&
	test_expect_code 128 sre -c safe.directory="$TRASH_DIRECTORY/clone" -C clone scout >out 2>err &&
	test_grep -F "$APPROVE" err &&
	no_secret out err &&
	write_config "token = env:PROM_TOKEN"
'

# sre config shows every value of a secret key as <redacted>, a reference
# included: which values are references is decided by their prefix, and a
# real password typed into the key that happens to start with "env:" or
# "pass:" must not be printed; a listing is pasted into tickets and chats,
# and a reference names vaults and items. The file shows it to whoever may
# read the file.
test_expect_success 'sre config shows a reference as it shows any secret: <redacted>' '
	sre config list >out 2>err &&
	test_grep "^prometheus.token=<redacted>$" out &&
	test_grep ! "env:PROM_TOKEN" out &&
	sre config get prometheus.token >out &&
	echo "<redacted>" >expect &&
	test_cmp expect out &&
	no_secret out err
'

test_expect_success 'a reference in a file others can read, or given with -c, draws no warning; a token does' '
	chmod 644 "$XDG_CONFIG_HOME/sre/config" &&
	sre -c slack.webhook=pass:team/slack config list >out 2>err &&
	test_grep ! "other users" err &&
	test_grep ! "process list" err &&
	sre -c slack.webhook=https://hooks.example/T/B/x config list >out 2>err &&
	test_grep "slack.webhook given with -c can be seen by other users in the process list" err &&
	printf "[github]\n\ttoken = ghp_plain0123456789\n" >>"$XDG_CONFIG_HOME/sre/config" &&
	sre config list >out 2>err &&
	test_grep "github.token is set in .*, which other users can read" err &&
	test_grep ! "prometheus.token" err
'

test_expect_success 'sre config set writes a reference, and still refuses a secret' '
	sre config set --file refs.conf jira.token op://ops/jira/token &&
	test_grep "token = op://ops/jira/token" refs.conf &&
	test_expect_code 128 sre config set --file refs.conf jira.token plain-jira-secret 2>err &&
	test_grep "jira.token holds a secret, and sre does not store secrets" err &&
	test_grep ! plain-jira-secret refs.conf
'

stop_fake
test_done
