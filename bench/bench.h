/*
 * bench.h: what the benchmarks share: clocks, a comparison for qsort()
 * of timings, and a seeded generator so every run measures the same data.
 */
#ifndef SRE_BENCH_H
#define SRE_BENCH_H

#include <stdint.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds of this thread's CPU: apart from what else the machine runs. */
static inline double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint32_t bench_rng = 2463534242u;

/* A pseudo-random number below n, or 0 (xorshift: the same data every run). */
static inline long long rnd(long long n)
{
	if (n <= 0)
		return 0;
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 17;
	bench_rng ^= bench_rng << 5;
	return (long long)(bench_rng % (uint32_t)n);
}

#endif
