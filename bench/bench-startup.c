/*
 * bench-startup.c: what starting sre costs before it does anything.
 *
 * Runs `sre --version` (the binary given, default ./sre) RUNS times and
 * prints the median wall time of one run, against two baselines measured
 * in the same run on the same machine: `git --version` (from PATH; left
 * out when git is not installed), the toolkit sre is shaped like, and
 * /bin/true, the cost of fork and exec alone. Linked with libcurl and
 * libgit2, sre took 9.2 ms here against git's 1.2 ms (7.9x), nearly all
 * of it the dynamic loader bringing in the two and their thirty-odd
 * dependencies; loaded on first use instead (lib/lazy-load.h) it takes
 * 1.3 ms (1.2x). A ratio that climbs back means something made start-up
 * load them again. Each run's output goes to /dev/null; the whole is
 * bounded by a 60 s alarm.
 *
 *   bench-startup [path/to/sre]
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/util.h"

#define RUNS 101

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median ms of RUNS runs of argv, or -1 when it cannot run or fails. */
static double median_run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	double t[RUNS];
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < RUNS; i++) {
		pid_t pid;
		double start = now_ms();

		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) ||
		    waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
		t[i] = now_ms() - start;
	}
	posix_spawn_file_actions_destroy(&fa);
	qsort(t, RUNS, sizeof(t[0]), compare_doubles);
	return t[RUNS / 2];
}

int main(int argc, char **argv)
{
	char *sre[] = { argc > 1 ? argv[1] : "./sre", "--version", NULL };
	char *git[] = { "git", "--version", NULL };
	char *true_[] = { "/bin/true", NULL };
	double s, g, b;

	alarm(60);
	b = median_run(true_);
	s = median_run(sre);
	g = median_run(git);
	if (s < 0 || b < 0) {
		fprintf(stderr, "bench-startup: cannot run %s --version or /bin/true\n", sre[0]);
		return 1;
	}
	printf("startup: %s --version %.2f ms, /bin/true %.2f ms (median of %d)\n", sre[0], s, b,
	       RUNS);
	if (g >= 0)
		printf("startup: git --version %.2f ms; sre / git = %.1fx\n", g, s / g);
	else
		printf("startup: no git on PATH: the git baseline is left out\n");
	printf("startup: sre / fork+exec = %.1fx\n", s / b);
	return 0;
}
