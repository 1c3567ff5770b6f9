/*
 * test-redact.c: unit tests of lib/redact.c: every rule and its mask,
 * ordinary log lines left alone, registered credentials, JSON trees,
 * UTF-8 kept whole, hostile and long inputs in linear time. Prints TAP.
 */
#include <time.h>

#include "../../lib/redact.h"
#include "tap.h"

#define M(label) "\xe2\x80\xb9redacted:" label "\xe2\x80\xba"

static void check(const char *in, const char *want, const char *what)
{
	char *got = redact_str(in);
	char *again = redact_str(got);

	is_str(got, want, "%s", what);
	is_str(again, got, "%s: redacting twice changes nothing", what);
	free(got);
	free(again);
}

/* Is the text a sequence of whole UTF-8 characters? */
static int utf8_whole(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!len || i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++)
			if (((unsigned char)s[i + k] >> 6) != 2)
				return 0;
		i += len;
	}
	return 1;
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Time to redact n copies of unit; the input is built here. */
static double time_redact(const char *unit, size_t n, size_t *out_len)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	double t;

	for (size_t i = 0; i < n; i++)
		strbuf_addstr(&in, unit);
	t = seconds();
	redact_buf(&out, in.buf, in.len);
	t = seconds() - t;
	*out_len = out.len;
	strbuf_release(&in);
	strbuf_release(&out);
	return t;
}

static void test_rules(void)
{
	check("GET https://alice:s3cret@example.com/x?y=1 200",
	      "GET https://" M("userinfo") "@example.com/x?y=1 200", "URL userinfo");
	check("git clone https://x-access-token:ghp_abcdef@github.com/o/r.git",
	      "git clone https://" M("userinfo") "@github.com/o/r.git", "a token as userinfo");
	check("postgres://app@db:5432/main", "postgres://" M("userinfo") "@db:5432/main",
	      "a user alone is userinfo too");
	check("mail me at ops@example.com, see https://example.com/a@b",
	      "mail me at ops@example.com, see https://example.com/a@b",
	      "an @ outside the authority is no userinfo");
	check("Authorization: Bearer abc.DEF-123\nnext line",
	      "Authorization: " M("authorization") "\nnext line", "Authorization header");
	check("{\"Authorization\": \"Basic dXNlcjpwYXNz\"}",
	      "{\"Authorization\": \"" M("authorization") "\"}", "Authorization in JSON");
	check("curl -H 'X: Bearer eyzzzzzzzzz9' host", "curl -H 'X: Bearer " M("bearer") "' host",
	      "a bearer token");
	check("sent Basic dXNlcjpwYXNz upstream", "sent Basic " M("basic") " upstream",
	      "a basic credential");
	check("password=hunter2 user=bob", "password=" M("password") " user=bob", "password=");
	check("DB_PASSWORD=hunter2", "DB_PASSWORD=" M("password"), "an environment variable");
	check("passwd: hunter2", "passwd: " M("password"), "passwd:");
	check("secret='a b c';", "secret='" M("secret") "';", "a quoted secret");
	check("?access_token=abc123&page=2", "?access_token=" M("token") "&page=2",
	      "a token in a query string");
	check("api_key=K1 apikey=K2 x-api-key: K3",
	      "api_key=" M("api-key") " apikey=" M("api-key") " x-api-key: " M("api-key"),
	      "api keys in three spellings");
	check("[\"run\", \"--db-password=hunter2\", \"-x\", \"--user=bob\"]",
	      "[\"run\", \"--db-password=" M("password") "\", \"-x\", \"--user=bob\"]",
	      "a command line's --flag=value");
	check("my-password=x", "my-password=" M("password"), "a dash inside a key");
	check("access_key=AK1", "access_key=" M("access-key"), "access_key=");
	check("{\"password\": \"p\\\"q\", \"user\": \"bob\"}",
	      "{\"password\": \"" M("password") "\", \"user\": \"bob\"}", "a JSON pair");
	check("{\\\"Password\\\":\\\"x\\\"}", "{\\\"Password\\\":\\\"" M("password") "\\\"}",
	      "a JSON pair inside an escaped string");
	check("TOKEN => 'abc'", "TOKEN => '" M("token") "'", "=> and upper case");
	check("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl trailing",
	      M("jwt") " trailing", "a JWT");
	check("key AKIAIOSFODNN7EXAMPLE used", "key " M("aws-key") " used", "an AWS key id");
	check("ASIAIOSFODNN7EXAMPLE", M("aws-key"), "an AWS session key id");
	check("push with ghp_0123456789abcdefghijABCDEFGHIJ012345 failed",
	      "push with " M("github-token") " failed", "a bare GitHub token");
	check("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
	      M("github-token"), "a fine-grained GitHub token");
	check("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	      "aws_secret_access_key = " M("aws-secret"), "aws_secret_access_key");
	check("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nab+/cd==\n"
	      "-----END RSA PRIVATE KEY-----\nafter",
	      "before\n" M("private-key") "\nafter", "a PEM private key");
	check("-----BEGIN ENCRYPTED PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIE\n",
	      M("private-key"), "a PEM key without its END line, to where the body stops");
	check("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nnext log line here\n",
	      M("private-key") "\nnext log line here\n", "a cut-off key hides no line of words after it");
	check("\"key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\"",
	      "\"key\": \"" M("private-key") "\\n\"", "a PEM key in a JSON string");
	check("private_key: -----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----",
	      "private_key: " M("private-key"), "a PEM key as a value is masked whole");
	check("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
	      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
	      "a certificate is public");
}

static void test_ordinary(void)
{
	static const char *const lines[] = {
		"2024-05-01T10:00:00Z INFO GET /api/v1/orders 200 12ms",
		"level=error msg=\"connection refused\" host=db:5432 retries=3",
		"the bearer of bad news; Basic authentication failed for user bob",
		"Bearer tokens expire after 1h",
		"max_tokens=100 tokens=5 password_policy=strong passwordless",
		"PWD=/home/app HOME=/home/app PATH=/usr/bin:/bin",
		"see https://example.com/docs?page=2#top and ftp://mirror/pub",
		"Using password authentication.",
		"commit 3f2a1b9: fix the retry loop (#42)",
		"java.lang.OutOfMemoryError: Java heap space",
		"AKIA is a prefix; AKIAshort; XAKIAIOSFODNN7EXAMPLE",
		"ghp_ is a prefix; ghp_short; xghp_0123456789abcdefghijABCDEFGHIJ012345",
		"-----BEGIN PUBLIC KEY-----",
		"naïve café — ünïcödé ✓ 日本語",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		check(lines[i], lines[i], lines[i]);
}

static void test_registry(void)
{
	redact_add_secret("ghp_0123456789abcdef");
	redact_add_secret("abc");       /* too short: would hide words */
	redact_add_secret(NULL);
	check("token ghp_0123456789abcdef in text and xghp_0123456789abcdefx",
	      "token " M("credential") " in text and x" M("credential") "x", "a registered token");
	check("abc stays", "abc stays", "a short value is not registered");
	check("token=ghp_0123456789abcdef", "token=" M("credential"), "a registered token as a value");
	redact_forget_secrets();
	check("ghp_0123456789abcdef", "ghp_0123456789abcdef", "forgotten");
}

static void test_json(void)
{
	cJSON *j = cJSON_Parse("{\"env\":[{\"name\":\"A\",\"value\":\"password=x\"}],"
			       "\"clientSecret\":\"s\",\"apiKey\":\"k\",\"token\":\"\","
			       "\"n\":1,\"msg\":\"https://u:p@h/\",\"tokenCount\":\"7\"}");
	char *s;

	redact_json(j);
	s = cJSON_PrintUnformatted(j);
	is_str(s, "{\"env\":[{\"name\":\"A\",\"value\":\"password=" M("password") "\"}],"
		  "\"clientSecret\":\"" M("secret") "\",\"apiKey\":\"" M("api-key") "\",\"token\":\"\","
		  "\"n\":1,\"msg\":\"https://" M("userinfo") "@h/\",\"tokenCount\":\"7\"}",
	       "JSON: strings redacted, secret members masked whole");
	cJSON_free(s);
	cJSON_Delete(j);
	redact_json(NULL);
	ok(1, "redact_json(NULL) is a no-op");
	is_str(redact_key_label("DB_PASSWORD", 11), "password", "key label: DB_PASSWORD");
	is_str(redact_key_label("AWS_SECRET_ACCESS_KEY", 21), "aws-secret", "key label: AWS secret");
	ok(!redact_key_label("PWD", 3) && !redact_key_label("tokens", 6), "key label: PWD, tokens");
}

static void test_utf8(void)
{
	static const char *const inputs[] = {
		"password=пароль секрет",
		"token=\xe2\x80\xb9x",
		"https://ü:ö@höst/ä",
		"Authorization: Bearer 日本語テキスト",
		"secret=\xe6\x97\xa5",
		"api_key=é,next",
	};

	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		char *got = redact_str(inputs[i]);
		ok(utf8_whole(got, strlen(got)) && strcmp(got, inputs[i]),
		   "UTF-8 kept whole: %s -> %s", inputs[i], got);
		free(got);
	}
	check("password=пароль секрет", "password=" M("password") " секрет", "a UTF-8 value");

	/* An END line longer than the 80 bytes sre reads of it, cut inside a character. */
	{
		const char *pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
				  "-----END RSA PRIVATE KEY no dashes here xxxxxxxxxxxxxxxxxxxxxxxxxxx"
				  "xxxxxxxxxxxx\xe2\x80\xb9\xe2\x80\xb9\xe2\x80\xb9 and the log goes on\n";
		char *got = redact_str(pem);
		ok(utf8_whole(got, strlen(got)) && starts_with(got, M("private-key")),
		   "a long END line is cut between characters: %s", got);
		free(got);
	}
}

static void test_hostile(void)
{
	static const char *const units[] = {
		"a",
		"://",
		"://@",
		"password=",
		"password=x ",
		"\"password\":",
		"eyJaaaaaaaaaaaa.",
		"eyJaaaaaaaaaa.eyJaaaaaaaaaa.",
		"-----BEGIN RSA PRIVATE KEY-----",
		"-----BEGIN X PRIVATE KEY-----\naaaa",
		"AKIA",
		"ghp_aaaa",
		" github_pat_",
		"Bearer ",
		"Basic aaaa ",
		"\\\"token\\\":\\\"",
		"x-",
		"\xff\xfe\x80",
	};
	double small, big;
	size_t len;
	char nul_in[] = "password=a\0b token=c";
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		small = time_redact(units[i], 50000, &len);
		big = time_redact(units[i], 400000, &len);
		/*
		 * Eight times the input: a quadratic rule would take 64 times as
		 * long, minutes on these megabytes; a linear one is under a
		 * second even under ASan. Either bound passes, so a noisy small
		 * run does not fail it.
		 */
		ok(big < 1.0 || big < small * 24, "linear on repeats of '%s' (%.3fs vs %.3fs, %zu bytes out)",
		   units[i], big, small, len);
	}
	redact_buf(&out, nul_in, sizeof(nul_in) - 1);
	ok(out.len > 0 && !memmem(out.buf, out.len, "=c", 2), "a NUL byte inside is just a byte");
	strbuf_release(&out);
	redact_buf(&out, "", 0);
	is_int(out.len, 0, "empty input, empty output");
	strbuf_release(&out);
	for (size_t n = 0; n <= 12; n++) {
		/* Every prefix of a match: no read past the end (ASan checks). */
		const char *s = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2ln";
		char *copy = xstrndup(s, n);
		redact_buf(&out, copy, n);
		strbuf_reset(&out);
		free(copy);
	}
	strbuf_release(&out);
	ok(1, "prefixes of a match read nothing past their end");
}

int main(void)
{
	test_rules();
	test_ordinary();
	test_registry();
	test_json();
	test_utf8();
	test_hostile();
	return done_testing();
}
