/*
 * bench-logtemplate.c: how fast the template miner reads a log.
 *
 * Writes a varied log of 2,000,000 lines (or argv[1]) to a scratch
 * directory: requests in logfmt, sshd lines in syslog's shape, an access
 * log, PostgreSQL errors, Java lines with their stack traces and Spark
 * task lines, with random variables (ids, addresses, durations, users)
 * and messages of several lengths among them. Then times, three times
 * each, the baseline `wc -l` on that file (started through
 * lib/run-command.c, as any child of sre) and the miner reading the same
 * file in this process (logtemplate_add_fd(), as `sre remember templates`
 * does), and prints the median lines per second of both and their ratio.
 * It fails when the two disagree on the number of lines. The run is
 * bounded by a 300 s alarm.
 *
 *   bench-logtemplate [lines]
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/logtemplate.h"
#include "../lib/run-command.h"
#include "../lib/strbuf.h"
#include "bench.h"

/* rnd() for the unsigned fields of the lines below. */
static unsigned urnd(unsigned n)
{
	return (unsigned)rnd(n);
}

#define RUNS 3
#define LIMIT_S 300

static const char *const users[] = { "alice", "bob", "carol", "dana", "erin", "frank" };
static const char *const paths[] = { "/api/cart", "/api/items", "/static/app.js", "/healthz", "/login" };
static const char *const words[] = { "cache", "queue", "pool", "index", "session", "ledger", "quota" };
/* Messages of several lengths: Drain joins only lines with as many tokens. */
static const char *const phrases[] = {
	"request done", "cache refreshed", "upstream timed out", "retrying the request",
	"connection reset by peer", "worker pool is saturated", "payment declined by the bank",
	"session expired and was removed", "rate limit reached for this client",
	"could not reach the inventory service in time", "config reloaded",
	"lease renewed", "checkpoint written to disk", "slow query on the orders table",
};

/* One line of shape k (several messages each: a few hundred templates in all). */
static void add_line(struct strbuf *sb, unsigned k, unsigned i)
{
	unsigned ms = urnd(5000), h = i / 3600 % 24, m = i / 60 % 60, s = i % 60;

	switch (k) {
	case 0:
		strbuf_addf(sb, "ts=2026-03-02T%02u:%02u:%02u.%03uZ level=info msg=\"%s\" "
			    "id=%08x path=%s status=%u duration=%ums user=%s\n", h, m, s, ms % 1000,
			    phrases[urnd(ARRAY_SIZE(phrases))], bench_rng, paths[urnd(5)], 200 + urnd(4) * 100,
			    ms, users[urnd(6)]);
		break;
	case 1:
		strbuf_addf(sb, "Mar  2 %02u:%02u:%02u gw-%u sshd[%u]: %s password for %s from "
			    "10.%u.%u.%u port %u ssh2\n", h, m, s, urnd(4), 1000 + urnd(30000),
			    urnd(3) ? "Accepted" : "Failed", users[urnd(6)], urnd(256), urnd(256),
			    urnd(256), 1024 + urnd(60000));
		break;
	case 2:
		strbuf_addf(sb, "192.0.2.%u - - [02/Mar/2026:%02u:%02u:%02u +0000] \"GET %s HTTP/1.1\" "
			    "%u %u \"-\" \"Mozilla/5.0\"\n", urnd(256), h, m, s, paths[urnd(5)],
			    200 + urnd(3) * 100, urnd(90000));
		break;
	case 3:
		strbuf_addf(sb, "2026-03-02 %02u:%02u:%02u.%03u UTC [%u] ERROR:  %s %u of %s_%u: "
			    "%s\n", h, m, s, ms % 1000, urnd(9000), words[urnd(7)], urnd(100),
			    words[urnd(7)], urnd(40), phrases[urnd(ARRAY_SIZE(phrases))]);
		break;
	case 4:
		strbuf_addf(sb, "2026-03-02 %02u:%02u:%02u,%03u WARN [pool-%u-thread-%u] "
			    "c.e.%sService: %s %u took %u ms\n\tat com.example.%sService.run(%sService.java:%u)\n",
			    h, m, s, ms % 1000, urnd(4), urnd(16), words[i % 7], words[urnd(7)], i,
			    ms, words[i % 7], words[i % 7], 10 + urnd(300));
		break;
	default:
		strbuf_addf(sb, "26/03/02 %02u:%02u:%02u INFO scheduler.TaskSetManager: Finished task "
			    "%u.0 in stage %u.0 (TID %u) in %u ms on node-%u (executor %u) (%u/%u)\n",
			    h, m, s, urnd(200), urnd(50), i, ms, urnd(9), urnd(9), urnd(200), 200);
		break;
	}
}

static int write_log(const char *path, unsigned long lines, size_t *bytes)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "w");
	unsigned long n = 0;
	int ret = 0;

	if (!fp)
		return error_errno("cannot write '%s'", path);
	*bytes = 0;
	while (n < lines && !ret) {
		unsigned k = urnd(6);
		add_line(&sb, k, (unsigned)n);
		n += 1 + (k == 4);
		if (sb.len > (1 << 20) || n >= lines) {
			if (fwrite(sb.buf, 1, sb.len, fp) != sb.len)
				ret = error_errno("cannot write '%s'", path);
			*bytes += sb.len;
			strbuf_reset(&sb);
		}
	}
	if (fclose(fp))
		ret = error_errno("cannot write '%s'", path);
	strbuf_release(&sb);
	return ret;
}

/* wc -l's count, timed; -1 when it fails. */
static long run_wc(const char *path, double *s)
{
	const char *argv[] = { "wc", "-l", path, NULL };
	struct strbuf out = STRBUF_INIT;
	double t0 = now_s();
	int status = run_command_capture(argv, "wc", &out, 4096, (int64_t)LIMIT_S * 1000);
	long n = -1;

	*s = now_s() - t0;
	if (!status)
		n = strtol(out.buf, NULL, 10);
	strbuf_release(&out);
	return n;
}

/* The miner over the file, timed; its lines, or -1. */
static long run_miner(const char *path, double *s, size_t *templates)
{
	struct logtemplate_miner *m = logtemplate_new(NULL);
	double t0 = now_s();
	int fd = open(path, O_RDONLY);
	size_t lines = 0;
	long n = -1;

	if (fd >= 0 && !logtemplate_add_fd(m, fd, &lines))
		n = (long)lines;
	*s = now_s() - t0;
	*templates = logtemplate_count(m);
	if (fd >= 0)
		close(fd);
	logtemplate_free(m);
	return n;
}

static void on_alarm(int sig)
{
	static const char msg[] = "bench-logtemplate: gave up after the time limit\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/sre-bench-logtemplate.XXXXXX";
	unsigned long lines = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	double wc[RUNS], mine[RUNS], t_wc, t_mine;
	long n_wc = -1, n_mine = -1;
	size_t bytes = 0, templates = 0;
	char *path;
	int ret = 1;

	signal(SIGALRM, on_alarm);
	alarm(LIMIT_S);
	if (!lines || !mkdtemp(dir)) {
		fprintf(stderr, "bench-logtemplate: usage: bench-logtemplate [lines > 0]\n");
		return 1;
	}
	path = xstrfmt("%s/app.log", dir);
	if (write_log(path, lines, &bytes) < 0)
		goto out;
	for (int r = 0; r < RUNS; r++) {
		n_wc = run_wc(path, &wc[r]);
		n_mine = run_miner(path, &mine[r], &templates);
		if (n_wc < 0 || n_mine < 0)
			goto out;
	}
	if (n_wc != n_mine) {
		fprintf(stderr, "bench-logtemplate: wc -l counts %ld lines, the miner %ld\n", n_wc, n_mine);
		goto out;
	}
	qsort(wc, RUNS, sizeof(double), cmp_double);
	qsort(mine, RUNS, sizeof(double), cmp_double);
	t_wc = wc[RUNS / 2];
	t_mine = mine[RUNS / 2];
	printf("logtemplate: %ld lines (%.0f MB), %zu templates, median of %d runs\n", n_mine,
	       (double)bytes / 1e6, templates, RUNS);
	printf("  wc -l       %8.3f s  %12.0f lines/s\n", t_wc, (double)n_wc / t_wc);
	printf("  the miner   %8.3f s  %12.0f lines/s  (%.1f MB/s)\n", t_mine,
	       (double)n_mine / t_mine, (double)bytes / 1e6 / t_mine);
	printf("  ratio       the miner takes %.1fx the time of wc -l; goal: 1,000,000 lines/s: %s\n",
	       t_mine / t_wc, (double)n_mine / t_mine >= 1e6 ? "met" : "NOT met");
	ret = 0;
out:
	unlink(path);
	rmdir(dir);
	free(path);
	return ret;
}
