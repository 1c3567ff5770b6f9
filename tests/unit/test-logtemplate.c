/*
 * test-logtemplate.c: unit tests of the log template miner
 * (lib/logtemplate.c) and of the templates kept per service
 * (lib/log-patterns.c). Prints TAP.
 *
 * The logs are written here in the shapes real ones have (syslog,
 * journald's JSON, logfmt, Docker's json-file, a Java exception with its
 * stack, PostgreSQL, HAProxy, an access log, Spark), with variables in
 * each: lines that differ only in them must share a template, different
 * messages must not. Then the masks one by one, the parameters, and
 * hostile input (NUL bytes, a 1 MB line, 100,000 unique lines).
 */
#include <cJSON.h>
#include <time.h>

#include "../../lib/config.h"
#include "../../lib/log-patterns.h"
#include "../../lib/logtemplate.h"
#include "../../lib/store.h"
#include "../../lib/strbuf.h"
#include "test-lib.h"

static struct logtemplate_miner *miner(int depth, double sim, int children)
{
	struct logtemplate_options o;

	logtemplate_options_init(&o);
	if (depth)
		o.depth = depth;
	if (sim >= 0)
		o.similarity = sim;
	if (children)
		o.max_children = children;
	return logtemplate_new(&o);
}

static size_t add(struct logtemplate_miner *m, const char *line)
{
	return logtemplate_add(m, line, strlen(line));
}

static const char *text_of(struct logtemplate_miner *m, size_t id)
{
	const struct logtemplate *t = logtemplate_get(m, id);
	return t ? t->text : "(none)";
}

/* ---- masks ---- */

static void check_mask_len(const char *in, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	logtemplate_mask(&sb, in, len);
	is_str(sb.buf, want, "mask: %s", in);
	strbuf_release(&sb);
}

static void check_mask(const char *in, const char *want)
{
	check_mask_len(in, strlen(in), want);
}

static void test_masks(void)
{
	check_mask("connect to 10.0.0.1 and 10.0.0.2:5432 failed",
		   "connect to <IP> and <IP> failed");
	check_mask("listening on [::1]:8080 and fe80::1ff:fe23:4567:890a",
		   "listening on [<IP>]:<NUM> and <IP>");
	check_mask("full 2001:db8:0:0:1:0:0:1 form", "full <IP> form");
	check_mask("ptr 0x7ffd1a2b and id deadbeef42cafe", "ptr <HEX> and id <HEX>");
	check_mask("took 12ms, 3.5s, 1e9 ops, 100% cpu, -4 left, v1.2.3",
		   "took <NUM>, <NUM>, <NUM> ops, <NUM> cpu, <NUM> left, v1.2.3");
	check_mask("request 3f2504e0-4f89-11d3-9a0c-0305e82c3301 done", "request <UUID> done");
	check_mask("open /var/lib/app/data.db: permission denied",
		   "open <PATH>: permission denied");
	check_mask("at 2024-01-15T10:23:45.123Z and 2024-01-15 10:23:45,120 and 10:23",
		   "at <TS> and <TS> <TS> and <TS>");
	check_mask("[15/Jan/2024:10:23:45 +0000] 24/01/15 2024-01-15T10:00:00+01:00",
		   "[<TS> <NUM>] <TS> <TS>");
	check_mask("user 'bob' said \"hi there\" to 'x'", "user <STR> said <STR> to <STR>");
	check_mask("msg=\"user 42 logged in\" user=\"bob\"", "msg=\"user <NUM> logged in\" user=<STR>");
	check_mask("{\"level\":\"info\",\"msg\":\"took 5 ms\"}",
		   "{\"level\":<STR>,\"msg\":\"took <NUM> ms\"}");
	check_mask("see https://example.com/a?b=1 now", "see <URL> now");
	check_mask("pool-3-thread-12 and automount[7998]: and x86_64-pc-linux-gnu",
		   "pool-<NUM>-thread-<NUM> and automount[<NUM>]: and x86_64-pc-linux-gnu");
	check_mask("Foo.java:42) and std::vector and 404NotFound",
		   "Foo.java:<NUM>) and std::vector and 404NotFound");
	check_mask("  tabs\tand   blanks \r\n", "tabs and blanks");
	check_mask("\033[31mERROR\033[0m red", "ERROR red");
	check_mask("bad \xff\xfe utf8 and \xc2\x9b C1 and caf\xc3\xa9",
		   "bad ?? utf8 and C1 and caf\xc3\xa9");
	check_mask_len("nul\0inside", 10, "nul inside");
	/* A template masked again is itself: seeds go through the same mask. */
	check_mask("<TS> INFO <*> took <NUM> ms from <IP>", "<TS> INFO <*> took <NUM> ms from <IP>");
}

/* ---- shapes ---- */

struct shape {
	const char *name;
	const char *same[3];   /* one message, its variables varied */
	const char *other;     /* another message of the same shape */
};

static const struct shape shapes[] = {
	{ "syslog", {
		"Mar  4 09:12:01 gw-2 sshd[2214]: Failed password for root from 203.0.113.9 port 52311 ssh2",
		"Mar  4 09:12:07 gw-2 sshd[2219]: Failed password for root from 198.51.100.23 port 40022 ssh2",
		"Mar 14 19:02:44 gw-2 sshd[31007]: Failed password for root from 192.0.2.200 port 61001 ssh2",
	  }, "Mar  4 09:13:00 gw-2 CRON[2301]: (root) CMD (run-parts /etc/cron.hourly)" },
	{ "journald", {
		"{ \"__REALTIME_TIMESTAMP\" : \"1709543521123456\", \"_PID\" : \"812\", \"MESSAGE\" : \"Started Session 41 of user ops.\" }",
		"{ \"__REALTIME_TIMESTAMP\" : \"1709543529000001\", \"_PID\" : \"813\", \"MESSAGE\" : \"Started Session 42 of user ops.\" }",
		"{ \"__REALTIME_TIMESTAMP\" : \"1709543600999999\", \"_PID\" : \"9\", \"MESSAGE\" : \"Started Session 1337 of user ops.\" }",
	  }, "{ \"__REALTIME_TIMESTAMP\" : \"1709543700000000\", \"_PID\" : \"1\", \"MESSAGE\" : \"Reached target Graphical Interface.\" }" },
	{ "logfmt", {
		"ts=2024-03-04T09:12:01.5Z level=warn msg=\"slow upstream\" upstream=10.2.0.4:9000 latency=812ms",
		"ts=2024-03-04T09:12:03.9Z level=warn msg=\"slow upstream\" upstream=10.2.0.7:9000 latency=1.2s",
		"ts=2024-03-04T09:13:00.0Z level=warn msg=\"slow upstream\" upstream=10.2.1.1:9001 latency=930ms",
	  }, "ts=2024-03-04T09:14:00.0Z level=info msg=\"config reloaded\" file=/etc/app/config.yaml version=12" },
	{ "docker", {
		"{\"log\":\"2024-03-04T09:12:01Z GET /healthz 200 1.2ms\\n\",\"stream\":\"stdout\",\"time\":\"2024-03-04T09:12:01.000000001Z\"}",
		"{\"log\":\"2024-03-04T09:12:11Z GET /healthz 200 0.9ms\\n\",\"stream\":\"stdout\",\"time\":\"2024-03-04T09:12:11.000000002Z\"}",
		"{\"log\":\"2024-03-04T09:12:21Z GET /healthz 200 3ms\\n\",\"stream\":\"stdout\",\"time\":\"2024-03-04T09:12:21.523000000Z\"}",
	  }, "{\"log\":\"panic: runtime error: index out of range [3] with length 3\\n\",\"stream\":\"stderr\",\"time\":\"2024-03-04T09:12:30Z\"}" },
	{ "java stack", {
		"\tat com.shop.cart.CartService.add(CartService.java:118)",
		"\tat com.shop.cart.CartController.post(CartController.java:57)",
		"\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)",
	  }, "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available" },
	{ "java", {
		"2024-03-04 09:12:01,223 ERROR [http-nio-8080-exec-3] c.s.c.CartService - cart 8812 could not be saved",
		"2024-03-04 09:12:05,001 ERROR [http-nio-8080-exec-7] c.s.c.CartService - cart 17 could not be saved",
		"2024-03-04 09:14:59,999 ERROR [http-nio-8080-exec-1] c.s.c.CartService - cart 4 could not be saved",
	  }, "2024-03-04 09:12:02,000 INFO [main] c.s.Application - Started Application in 7.3 seconds" },
	{ "postgresql", {
		"2024-03-04 09:12:01.123 UTC [3021] ERROR:  duplicate key value violates unique constraint \"orders_pkey\"",
		"2024-03-04 09:12:09.700 UTC [3022] ERROR:  duplicate key value violates unique constraint \"users_email_key\"",
		"2024-03-04 09:15:00.001 UTC [77] ERROR:  duplicate key value violates unique constraint \"carts_pkey\"",
	  }, "2024-03-04 09:12:01.123 UTC [3021] LOG:  checkpoint complete: wrote 42 buffers (0.3%)" },
	{ "haproxy", {
		"Mar  4 09:12:01 lb1 haproxy[911]: 203.0.113.7:51234 [04/Mar/2024:09:12:01.120] www~ api/app2 0/0/1/12/13 200 1021 - - ---- 5/5/0/0/0 0/0 \"GET /api/cart HTTP/1.1\"",
		"Mar  4 09:12:02 lb1 haproxy[911]: 198.51.100.2:40001 [04/Mar/2024:09:12:02.001] www~ api/app1 0/0/0/40/41 200 988 - - ---- 6/6/1/1/0 0/0 \"GET /api/items HTTP/1.1\"",
		"Mar  4 09:12:03 lb1 haproxy[912]: 192.0.2.44:60000 [04/Mar/2024:09:12:03.999] www~ api/app2 0/0/2/7/9 200 17 - - ---- 4/4/0/0/0 0/0 \"POST /api/cart HTTP/1.1\"",
	  }, "Mar  4 09:12:04 lb1 haproxy[911]: Server api/app3 is DOWN, reason: Layer4 timeout, check duration: 2001ms." },
	{ "access", {
		"203.0.113.7 - - [04/Mar/2024:09:12:01 +0000] \"GET /static/app.js HTTP/1.1\" 200 51234 \"-\" \"Mozilla/5.0\"",
		"198.51.100.2 - alice [04/Mar/2024:09:12:02 +0000] \"GET /index.html HTTP/1.1\" 304 0 \"https://shop.example/\" \"curl/8.5.0\"",
		"192.0.2.44 - - [04/Mar/2024:09:12:09 +0000] \"POST /api/cart HTTP/2.0\" 201 77 \"-\" \"Go-http-client/2.0\"",
	  }, "[Mon Mar 04 09:12:03.123456 2024] [core:error] [pid 4411] AH00037: Symbolic link not allowed" },
	{ "spark", {
		"24/03/04 09:12:01 INFO scheduler.TaskSetManager: Finished task 3.0 in stage 7.0 (TID 88) in 412 ms on node-4 (executor 2) (4/16)",
		"24/03/04 09:12:02 INFO scheduler.TaskSetManager: Finished task 9.0 in stage 7.0 (TID 94) in 1201 ms on node-1 (executor 5) (5/16)",
		"24/03/04 09:12:09 INFO scheduler.TaskSetManager: Finished task 15.0 in stage 7.0 (TID 100) in 98 ms on node-7 (executor 1) (16/16)",
	  }, "24/03/04 09:12:10 WARN storage.BlockManager: Putting block rdd_12_3 failed due to exception java.io.IOException." },
};

static void test_shapes(void)
{
	for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
		const struct shape *sh = &shapes[s];
		struct logtemplate_miner *m = miner(0, -1, 0);
		size_t a = add(m, sh->same[0]), b = add(m, sh->same[1]), c = add(m, sh->same[2]);
		size_t d = add(m, sh->other);

		ok(a == b && b == c, "%s: lines that differ in their variables share a template (%s)",
		   sh->name, text_of(m, a));
		ok(d != a, "%s: another message has its own (%s)", sh->name, text_of(m, d));
		is_int(logtemplate_get(m, a)->count, 3, "%s: counted 3", sh->name);
		{
			/* The example is the first line, a tab made a blank. */
			char *want = xstrdup(sh->same[0]);
			for (char *p = want; *p; p++)
				if (*p == '\t')
					*p = ' ';
			is_str(logtemplate_get(m, a)->example, want, "%s: the example is the first line",
			       sh->name);
			free(want);
		}
		logtemplate_free(m);
	}
}

/* A log of several shapes at once, in order: every message finds its own. */
static void test_mixed(void)
{
	struct logtemplate_miner *m = miner(0, -1, 0);
	size_t ids[ARRAY_SIZE(shapes)], n, *order;

	for (int round = 0; round < 3; round++)
		for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
			size_t id = add(m, shapes[s].same[round]);
			if (!round)
				ids[s] = id;
			else if (id != ids[s])
				ok(0, "mixed: %s line %d joined %s", shapes[s].name, round, text_of(m, id));
		}
	for (size_t s = 0; s < ARRAY_SIZE(shapes); s++)
		add(m, shapes[s].other);
	is_int(logtemplate_count(m), 2 * ARRAY_SIZE(shapes), "mixed: one template per message");
	n = logtemplate_by_count(m, &order);
	is_int(n, 2 * ARRAY_SIZE(shapes), "mixed: all counted");
	is_int(logtemplate_get(m, order[0])->count, 3, "mixed: most lines first");
	is_int(logtemplate_get(m, order[n - 1])->count, 1, "mixed: fewest last");
	free(order);
	logtemplate_free(m);
}

static void test_drain(void)
{
	struct logtemplate_miner *m = miner(0, -1, 0);
	size_t a, b, c;

	/* Not masked, yet variable: Drain widens the token that differs. */
	a = add(m, "user alice logged in from web");
	b = add(m, "user bob logged in from web");
	is_int(a, b, "a word that differs joins");
	is_str(text_of(m, a), "user <*> logged in from web", "and becomes <*>");
	c = add(m, "disk full on node seven now");
	ok(c != a, "a different message of the same length does not");
	/* The token count is the first level: a longer line never joins. */
	ok(add(m, "user carol logged in from web today") != a, "another token count, another template");
	ok(add(m, "") == LOGTEMPLATE_NONE && add(m, "  \t ") == LOGTEMPLATE_NONE,
	   "a blank line is no template");
	is_int(logtemplate_get(m, a)->count, 2, "blank lines are not counted");
	logtemplate_free(m);
}

static void test_parameters(void)
{
	const char *lines[] = {
		"job 1 started on alpha queue",
		"job 2 stopped on beta queue",
		"job 3 started on gamma lane",
	};
	struct logtemplate_miner *strict = miner(0, 1.0, 0), *loose = miner(0, 0.4, 0);
	struct logtemplate_miner *deep = miner(6, 0.4, 0), *narrow = miner(4, 0.4, 1);
	struct logtemplate_options o;
	struct config cfg = CONFIG_INIT;
	const char *msg;

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		add(strict, lines[i]);
		add(loose, lines[i]);
		add(deep, lines[i]);
	}
	is_int(logtemplate_count(strict), 3, "similarity 1: only equal lines join");
	is_int(logtemplate_count(loose), 1, "similarity 0.4: the three join");
	is_str(text_of(loose, 0), "job <NUM> <*> on <*> <*>", "and widen");
	/* Depth 6 routes on the first four tokens: "started" and "stopped" part. */
	is_int(logtemplate_count(deep), 2, "depth 6 keeps apart what depth 4 joins");
	/* One child at most: every first token goes down <*>, so all meet in one leaf. */
	add(narrow, "alpha one two three");
	add(narrow, "beta one two three");
	is_int(logtemplate_count(narrow), 1, "max-children 1: different first tokens share a leaf");
	logtemplate_free(strict);
	logtemplate_free(loose);
	logtemplate_free(deep);
	logtemplate_free(narrow);

	ok(!logtemplate_options_read(&o, &cfg) && o.depth == 4 && o.similarity == 0.4 &&
	   o.max_children == 100, "the defaults are Drain3's");
	config_add_override(&cfg, "remember.template-depth=6");
	config_add_override(&cfg, "remember.template-similarity=0.7");
	config_add_override(&cfg, "remember.template-max-children=7");
	ok(!logtemplate_options_read(&o, &cfg) && o.depth == 6 && o.similarity == 0.7 &&
	   o.max_children == 7, "the keys are read");
	config_add_override(&cfg, "remember.template-depth=17");
	capture_start();
	ok(logtemplate_options_read(&o, &cfg) < 0, "depth 17 is refused");
	msg = capture_end();
	like(msg, "remember.template-depth is 17; it takes a whole number from 3 to 16", "naming the key");
	config_add_override(&cfg, "remember.template-depth=3");
	config_add_override(&cfg, "remember.template-similarity=-0.1");
	capture_start();
	ok(logtemplate_options_read(&o, &cfg) < 0, "a negative similarity is refused");
	msg = capture_end();
	like(msg, "remember.template-similarity is \"-0.1\"", "naming the key");
	config_add_override(&cfg, "remember.template-similarity=nan");
	capture_start();
	ok(logtemplate_options_read(&o, &cfg) < 0, "nan is refused");
	capture_end();
	config_add_override(&cfg, "remember.template-similarity=1");
	config_add_override(&cfg, "remember.template-max-children=10001");
	capture_start();
	ok(logtemplate_options_read(&o, &cfg) < 0, "10001 children are refused");
	msg = capture_end();
	like(msg, "remember.template-max-children is 10001", "naming the key");
	config_clear(&cfg);
}

static void test_seed(void)
{
	struct logtemplate_miner *m = miner(0, -1, 0);
	size_t s = logtemplate_seed(m, "user <*> logged in from <IP>", "user x logged in from 1.2.3.4", 41);
	size_t a = add(m, "user dana logged in from 10.1.1.1");

	is_int(a, s, "a line joins the template it was seeded with");
	is_int(logtemplate_get(m, a)->tag, 41, "which keeps its tag");
	is_int(logtemplate_get(m, a)->count, 1, "a seed counts no line");
	is_str(logtemplate_get(m, a)->example, "user x logged in from 1.2.3.4", "and keeps its example");
	is_int(logtemplate_seed(m, "user <*> logged in from <IP>", NULL, 42), s,
	       "seeding the same text again finds it");
	is_int(logtemplate_get(m, s)->tag, 41, "the first tag stays");
	logtemplate_free(m);
}

/* ---- hostile input ---- */

static int printable_utf8(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return 0;
	return 1;
}

static void test_hostile(void)
{
	struct logtemplate_miner *m = miner(0, -1, 0);
	static const char nul[] = "disk \0full\0 on /dev/sda1";
	const char esc[] = "\033]0;title\007\033[2Jwiped \x9b\xc2\x9b \xff end";
	char *big = xmalloc(1 << 20);
	struct strbuf sb = STRBUF_INIT;
	const struct logtemplate *t;
	size_t id, n;
	clock_t start;

	id = logtemplate_add(m, nul, sizeof(nul) - 1);
	t = logtemplate_get(m, id);
	is_str(t->text, "disk full on <PATH>", "NUL bytes split tokens");
	is_str(t->example, "disk ?full? on /dev/sda1", "and are '?' in the example");
	id = logtemplate_add(m, esc, sizeof(esc) - 1);
	t = logtemplate_get(m, id);
	ok(printable_utf8(t->text) && printable_utf8(t->example),
	   "no control character in a template or its example: %s / %s", t->text, t->example);
	{
		cJSON *j = cJSON_CreateString(t->example);
		char *s = cJSON_PrintUnformatted(j);
		cJSON *back = cJSON_Parse(s);
		ok(back && !strcmp(back->valuestring, t->example), "the example survives JSON");
		cJSON_Delete(back);
		cJSON_free(s);
		cJSON_Delete(j);
	}

	/* A 1 MB line: read to LOGTEMPLATE_LINE_MAX, its tokens folded, its example cut. */
	for (size_t i = 0; i < (1 << 20); i++)
		big[i] = i % 7 == 6 ? ' ' : (char)('a' + i % 26);
	id = logtemplate_add(m, big, 1 << 20);
	t = logtemplate_get(m, id);
	ok(strlen(t->text) <= LOGTEMPLATE_LINE_MAX, "a 1 MB line makes a template of at most 64 KiB");
	ok(strlen(t->example) <= LOGTEMPLATE_EXAMPLE_MAX + 3, "and an example of at most 1 KiB");
	is_int(logtemplate_add(m, big, 1 << 20), id, "the same line joins it");
	logtemplate_free(m);

	/* 100,000 unique lines: bounded, and in bounded time. */
	m = miner(0, -1, 0);
	start = clock();
	for (int i = 0; i < 100000; i++) {
		strbuf_setlen(&sb, 0);
		/* Words of letters only, so no mask makes them alike. */
		for (int w = 0, x = i; w < 2 + i % 5; w++, x = x / 3 + w * 7919)
			strbuf_addf(&sb, "%s%c%c%c%c", w ? " " : "", 'a' + x % 26, 'a' + (x / 26) % 26,
				    'a' + (x / 676) % 26, 'a' + (i + w) % 26);
		logtemplate_add(m, sb.buf, sb.len);
	}
	n = logtemplate_count(m);
	ok(n <= LOGTEMPLATE_MAX + 1, "100,000 unique lines make at most %d templates (%zu)",
	   LOGTEMPLATE_MAX + 1, n);
	ok((double)(clock() - start) / CLOCKS_PER_SEC < 60, "in bounded time");
	{
		long long total = 0;
		for (size_t i = 0; i < n; i++)
			total += logtemplate_get(m, i)->count;
		is_int(total, 100000, "every line is counted somewhere");
	}
	logtemplate_free(m);

	/*
	 * 60,000 distinct messages, spread over the tree (depth 5 routes on
	 * two words) so that no leaf fills: past the limit, the rest go to
	 * one template.
	 */
	m = miner(5, 1.0, 10000);
	for (int i = 0; i < 60000; i++) {
		strbuf_setlen(&sb, 0);
		strbuf_addf(&sb, "%c%c %c%c happened", 'a' + i % 26, 'a' + i / 26 % 26,
			    'a' + i / 676 % 26, 'a' + i / 17576 % 26);
		logtemplate_add(m, sb.buf, sb.len);
	}
	n = logtemplate_count(m);
	is_int(n, LOGTEMPLATE_MAX + 1, "the templates stop at the limit, plus one for the rest");
	is_str(logtemplate_get(m, n - 1)->text, LOGTEMPLATE_OTHER, "which says so");
	is_int(logtemplate_get(m, n - 1)->count, 10000, "and counts the rest");
	logtemplate_free(m);
	strbuf_release(&sb);
	free(big);
}

/* logtemplate_add_fd: lines across reads, a line longer than the buffer, no final newline. */
static void test_fd(void)
{
	struct logtemplate_miner *m = miner(0, -1, 0);
	char *path = xstrfmt("%s/log", tmpdir);
	FILE *fp = fopen(path, "w");
	size_t lines = 0;
	int fd;

	for (int i = 0; i < 50000; i++)
		fprintf(fp, "request %d served in %d ms\n", i, i % 100);
	for (int i = 0; i < 3 << 20; i++)
		fputc('x', fp);
	fputc('\n', fp);
	fprintf(fp, "after the long line\nno newline at the end");
	fclose(fp);
	fd = open(path, O_RDONLY);
	ok(!logtemplate_add_fd(m, fd, &lines), "a file is read");
	close(fd);
	is_int(lines, 50003, "every line counted once, the 3 MB one too");
	is_int(logtemplate_get(m, 0)->count, 50000, "the lines of one message share a template");
	is_int(logtemplate_count(m), 4, "four templates");
	ok(logtemplate_add_fd(m, -1, &lines) < 0, "a read that fails is said");
	logtemplate_free(m);
	free(path);
}

/* ---- templates per service in the store ---- */

static size_t find(const struct log_patterns *p, const char *text)
{
	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->v[i].template, text))
			return i;
	return (size_t)-1;
}

static void test_store(void)
{
	char *db = xstrfmt("%s/sre.db", tmpdir);
	struct store *st;
	struct logtemplate_miner *m;
	struct log_patterns p = LOG_PATTERNS_INIT;
	time_t t0 = 1700000000, opened = t0 + 3600;
	size_t i;

	if (store_open(&st, db, 1000) < 0) {
		ok(0, "the store opens");
		return;
	}
	/* Before the incident: the baseline. */
	m = miner(0, -1, 0);
	ok(!log_patterns_seed(st, "cart", m), "seeding from an empty store");
	add(m, "user alice logged in");
	add(m, "cache hit ratio 0.91");
	ok(!log_patterns_record(st, "cart", m, t0, opened - 7200, &p), "recorded");
	ok(!p.baseline && p.nr == 2 && !p.v[0].is_new && !p.v[1].is_new,
	   "with no baseline before, nothing is new");
	log_patterns_release(&p);
	logtemplate_free(m);

	/* The incident: one line of a known message (a new user), one new message. */
	m = miner(0, -1, 0);
	ok(!log_patterns_seed(st, "cart", m), "seeded from the store");
	add(m, "user bob logged in");
	add(m, "payment gateway timeout for order 7");
	add(m, "payment gateway timeout for order 8");
	ok(!log_patterns_record(st, "cart", m, opened + 60, opened, &p), "recorded again");
	ok(p.baseline, "there is a baseline now");
	is_int(p.nr, 2, "two templates counted a line");
	is_str(p.v[0].template, "payment gateway timeout for order <NUM>", "the new one first");
	ok(p.v[0].is_new && p.v[0].count == 2, "it is new, with its count");
	i = find(&p, "user <*> logged in");
	ok(i != (size_t)-1 && !p.v[i].is_new, "a known message in new words is not new");
	log_patterns_release(&p);
	logtemplate_free(m);

	/* The widened template took over its seed's row; the other kept its count. */
	m = miner(0, -1, 0);
	log_patterns_seed(st, "cart", m);
	is_int(logtemplate_count(m), 3, "three rows: the widened one did not make a fourth");
	logtemplate_free(m);

	/* Another service has its own. */
	m = miner(0, -1, 0);
	add(m, "payment gateway timeout for order 9");
	ok(!log_patterns_record(st, "shop", m, opened + 60, opened, &p) && !p.baseline &&
	   !p.v[0].is_new, "another service has no baseline of its own");
	log_patterns_release(&p);
	logtemplate_free(m);

	/* At most LOG_PATTERNS_KEEP per service, the most recently seen. */
	m = miner(0, 1.0, 10000);
	for (int k = 0; k < LOG_PATTERNS_KEEP + 10; k++) {
		char line[64];
		snprintf(line, sizeof(line), "event %c%c%c%c seen", 'a' + k % 26, 'a' + k / 26 % 26,
			 'a' + k / 676 % 26, 'a' + k / 17576 % 26);
		add(m, line);
	}
	ok(!log_patterns_record(st, "bulk", m, t0, 0, NULL), "a flood is recorded");
	logtemplate_free(m);
	m = miner(0, 1.0, 10000);
	log_patterns_seed(st, "bulk", m);
	is_int(logtemplate_count(m), LOG_PATTERNS_KEEP, "and trimmed to the limit");
	logtemplate_free(m);
	store_free(st);
	free(db);
}

int main(void)
{
	if (test_begin("logtemplate") < 0)
		return 1;
	test_masks();
	test_shapes();
	test_mixed();
	test_drain();
	test_parameters();
	test_seed();
	test_hostile();
	test_fd();
	test_store();
	return test_end();
}
