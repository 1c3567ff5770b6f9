/*
 * test-progress.c: unit tests of lib/progress.c, the registry of what is
 * waited on and the status line drawn from it. Prints TAP.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/progress.h"
#include "../../lib/strbuf.h"
#include "tap.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_line(void)
{
	/* Ahead of every begin below, however loaded the machine is. */
	int64_t now = now_ms() + 10000;
	int a, b, c, d;
	char *line;

	line = progress_line(now, 0, 80);
	is_str(line, "", "nothing in flight: no line");
	free(line);

	a = progress_begin("prometheus");
	progress_update(a, 2, 4, now + 27000);
	line = progress_line(now, 0, 80);
	is_str(line, "sre: waiting for prometheus (try 2 of 4, 27s left)", "source, try, time left");
	free(line);
	line = progress_line(now, 60000, 80);
	is_str(line, "", "not before the delay");
	free(line);
	line = progress_line(now + 28000, 0, 80);
	is_str(line, "sre: waiting for prometheus (try 2 of 4, 0s left)", "past the deadline: 0s");
	free(line);

	/* A collector and its requests under one name make one item. */
	b = progress_begin("prometheus");
	progress_update(b, 0, 0, now + 12000);
	c = progress_begin("git");
	progress_update(c, 0, 0, now + 12000);
	d = progress_begin("jae\033ger");
	line = progress_line(now, 0, 200);
	is_str(line, "sre: waiting for prometheus (try 2 of 4, 12s left), git (12s left), jae?ger",
	       "one item per name, the earliest deadline, control characters as ?");
	free(line);
	line = progress_line(now, 0, 30);
	is_int(strlen(line), 29, "cut to the width, less one column");
	ok(!strcmp(line + 26, "..."), "with an ellipsis");
	free(line);

	progress_end(a);
	progress_end(c);
	progress_end(d);
	line = progress_line(now, 0, 80);
	is_str(line, "sre: waiting for prometheus (12s left)", "what ended leaves the line");
	free(line);
	progress_end(b);
	progress_end(-1);
	ok(progress_begin(NULL) == -1 && progress_begin("") == -1, "no name: not registered");
	line = progress_line(now, 0, 80);
	is_str(line, "", "all ended: no line");
	free(line);
}

static void test_drawing(void)
{
	struct strbuf out = STRBUF_INIT;
	int fds[2], h;
	char buf[4096];
	ssize_t n;

	if (pipe(fds) < 0) {
		ok(0, "pipe");
		return;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	ok(!progress_start(fds[1], 0), "the ticker starts");
	h = progress_begin("jaeger");
	progress_update(h, 1, 2, now_ms() + 5000);
	usleep(350 * 1000);
	/* Ended first, so that the ticker cannot draw it again after the clear. */
	progress_end(h);
	progress_clear();
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		strbuf_add(&out, buf, (size_t)n);
	ok(strstr(out.buf, "\rsre: waiting for jaeger (try 1 of 2, 5s left)\033[K") != NULL,
	   "drawn in place");
	ok(out.len >= 4 && !strcmp(out.buf + out.len - 4, "\r\033[K"), "then erased");
	strbuf_reset(&out);
	usleep(250 * 1000);
	progress_stop();
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		strbuf_add(&out, buf, (size_t)n);
	is_int(out.len, 0, "nothing in flight: nothing written");
	progress_stop();
	strbuf_release(&out);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	test_line();
	test_drawing();
	return done_testing();
}
