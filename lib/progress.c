/*
 * progress.c: the registry of work in flight and the status line drawn
 * from it; see progress.h.
 *
 * One mutex guards the registry and the drawing, so a line is never
 * half-written when a message follows it. The ticker thread wakes every
 * 100 ms and writes only when the text changed (the seconds left tick
 * once a second), so a terminal sees at most ten small writes a second.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "strbuf.h"
#include "util.h"

struct entry {
	char *name;      /* NULL: a free slot */
	int try_no, tries;
	int64_t deadline_ms;
	int64_t since_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct entry *entries;
static size_t nr_entries, alloc_entries;

/* The drawing side, set by progress_start(). */
static int draw_fd = -1;
static int64_t draw_delay_ms;
static int running, stopping;
static pthread_t ticker;
static struct strbuf shown = STRBUF_INIT; /* the text on the terminal now */
/* Read by the signal handler: is a line on the terminal? */
static volatile sig_atomic_t line_shown;
static volatile sig_atomic_t signal_fd = -1;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int progress_begin(const char *name)
{
	char *copy;
	size_t i;

	if (!name || !*name)
		return -1;
	copy = xstrdup(name); /* out of the lock: die() on no memory takes it */
	pthread_mutex_lock(&lock);
	for (i = 0; i < nr_entries && entries[i].name; i++)
		;
	if (i == nr_entries) {
		ALLOC_GROW(entries, nr_entries + 1, alloc_entries);
		nr_entries++;
	}
	entries[i].name = copy;
	entries[i].try_no = entries[i].tries = 0;
	entries[i].deadline_ms = 0;
	entries[i].since_ms = mono_ms();
	pthread_mutex_unlock(&lock);
	return (int)i;
}

void progress_update(int handle, int try_no, int tries, int64_t deadline_ms)
{
	if (handle < 0)
		return;
	pthread_mutex_lock(&lock);
	if ((size_t)handle < nr_entries && entries[handle].name) {
		entries[handle].try_no = try_no;
		entries[handle].tries = tries;
		entries[handle].deadline_ms = deadline_ms;
	}
	pthread_mutex_unlock(&lock);
}

void progress_end(int handle)
{
	if (handle < 0)
		return;
	pthread_mutex_lock(&lock);
	if ((size_t)handle < nr_entries) {
		free(entries[handle].name);
		entries[handle].name = NULL;
	}
	/* The registry is empty again: give its memory back. */
	while (nr_entries && !entries[nr_entries - 1].name)
		nr_entries--;
	if (!nr_entries) {
		free(entries);
		entries = NULL;
		alloc_entries = 0;
	}
	pthread_mutex_unlock(&lock);
}

/* Append name with what a terminal must not be sent turned into '?'. */
static void add_printable(struct strbuf *sb, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		strbuf_addch(sb, *p < 0x20 || *p >= 0x7f ? '?' : *p);
}

/* Under the lock. Entries of one name (a source's requests) make one item. */
static char *line_locked(int64_t now, int64_t delay_ms, int width)
{
	struct strbuf sb = STRBUF_INIT;
	int items = 0;

	for (size_t i = 0; i < nr_entries; i++) {
		const struct entry *e = &entries[i];
		int try_no = 0, tries = 0, first = 1;
		int64_t deadline = 0, since = e->since_ms;

		if (!e->name)
			continue;
		for (size_t j = 0; j < nr_entries; j++) {
			const struct entry *o = &entries[j];
			if (!o->name || strcmp(o->name, e->name))
				continue;
			if (j < i) {
				first = 0; /* drawn with the first of its name */
				break;
			}
			if (o->try_no > try_no) {
				try_no = o->try_no;
				tries = o->tries;
			}
			if (o->deadline_ms && (!deadline || o->deadline_ms < deadline))
				deadline = o->deadline_ms;
			if (o->since_ms < since)
				since = o->since_ms;
		}
		if (!first || now - since < delay_ms)
			continue;
		strbuf_addstr(&sb, items++ ? ", " : "sre: waiting for ");
		add_printable(&sb, e->name);
		if (try_no && deadline)
			strbuf_addf(&sb, " (try %d of %d, %llds left)", try_no, tries,
				    (long long)(deadline > now ? (deadline - now + 999) / 1000 : 0));
		else if (try_no)
			strbuf_addf(&sb, " (try %d of %d)", try_no, tries);
		else if (deadline)
			strbuf_addf(&sb, " (%llds left)",
				    (long long)(deadline > now ? (deadline - now + 999) / 1000 : 0));
	}
	/* One line that fits: a wrapped line cannot be rewritten in place. */
	if (width > 4 && sb.len > (size_t)width - 1) {
		strbuf_setlen(&sb, (size_t)width - 4);
		strbuf_addstr(&sb, "...");
	}
	return strbuf_detach(&sb, NULL);
}

char *progress_line(int64_t now_ms, int64_t delay_ms, int width)
{
	char *line;

	pthread_mutex_lock(&lock);
	line = line_locked(now_ms, delay_ms, width);
	pthread_mutex_unlock(&lock);
	return line;
}

/* write() all of it; a terminal that fails us is not worth a message. */
static void put(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void clear_locked(void)
{
	if (draw_fd >= 0 && line_shown)
		put(draw_fd, "\r\033[K", 4);
	line_shown = 0;
	strbuf_reset(&shown);
}

static void draw_locked(void)
{
	struct winsize ws;
	int width = 80;
	char *line;

	if (!ioctl(draw_fd, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		width = ws.ws_col;
	line = line_locked(mono_ms(), draw_delay_ms, width);
	if (!*line) {
		clear_locked();
	} else if (strcmp(line, shown.buf)) {
		struct strbuf out = STRBUF_INIT;

		strbuf_addf(&out, "\r%s\033[K", line);
		put(draw_fd, out.buf, out.len);
		strbuf_release(&out);
		strbuf_reset(&shown);
		strbuf_addstr(&shown, line);
		line_shown = 1;
	}
	free(line);
}

static void *tick(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct timespec until;

		draw_locked();
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&wake, &lock, &until);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

void progress_clear(void)
{
	pthread_mutex_lock(&lock);
	if (running)
		clear_locked();
	pthread_mutex_unlock(&lock);
}

void progress_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(ticker, NULL);
	pthread_mutex_lock(&lock);
	clear_locked();
	draw_fd = -1;
	signal_fd = -1;
	strbuf_release(&shown);
	running = stopping = 0;
	pthread_mutex_unlock(&lock);
}

/* ---- leaving nothing behind ---- */

static SRE_NORETURN void (*next_die)(const char *prefix, const char *msg);

/* die() prints "fatal: ..." on a line of its own, not after the status line. */
static SRE_NORETURN void die_cleared(const char *prefix, const char *msg)
{
	progress_stop();
	next_die(prefix, msg);
}

/* Only write() and raise(): what a signal handler may call. */
static void on_fatal_signal(int sig)
{
	if (line_shown && signal_fd >= 0)
		put(signal_fd, "\r\033[K", 4);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void progress_atexit(void)
{
	progress_stop();
}

int progress_start(int fd, int64_t delay_ms)
{
	static int hooked;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	if (running)
		return 0;
	draw_fd = fd;
	signal_fd = fd;
	draw_delay_ms = delay_ms;
	stopping = 0;
	if (pthread_create(&ticker, NULL, tick, NULL)) {
		draw_fd = signal_fd = -1;
		return -1;
	}
	running = 1;
	if (!hooked) {
		hooked = 1;
		atexit(progress_atexit);
		next_die = die_routine;
		die_routine = die_cleared;
		/* A signal with its own handler (scout --watch) ends through exit. */
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
			struct sigaction old;
			if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_DFL)
				signal(sigs[i], on_fatal_signal);
		}
	}
	return 0;
}
