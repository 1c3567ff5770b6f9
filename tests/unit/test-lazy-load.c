/*
 * test-lazy-load.c: lib/lazy-load.c, loading a library on first use.
 *
 * libm stands for libcurl and libgit2 (sre links it anyway, so loading it
 * again costs nothing and its functions have known answers). What the
 * user sees is checked too: a library that is not there, or lacks one of
 * the functions, fails with the soname and the reason, printed once; many
 * threads asking at once load it once and all get it.
 */
#include "../../lib/lazy-load.h"
#include "test-lib.h"

static const char *const libm_names[] = { "cos", "sqrt" };
static void *libm_slots[ARRAY_SIZE(libm_names)];
static struct lazy_library libm = LAZY_LIBRARY_INIT("libm.so.6", libm_names, libm_slots);

static const char *const missing_names[] = { "cos" };
static void *missing_slots[ARRAY_SIZE(missing_names)];
static struct lazy_library missing =
	LAZY_LIBRARY_INIT("libsre-no-such-library.so.1", missing_names, missing_slots);

static const char *const short_names[] = { "cos", "sre_no_such_function", "sqrt" };
static void *short_slots[ARRAY_SIZE(short_names)];
static struct lazy_library lacking = LAZY_LIBRARY_INIT("libm.so.6", short_names, short_slots);

static const char *const threaded_names[] = { "sqrt" };
static void *threaded_slots[ARRAY_SIZE(threaded_names)];
static struct lazy_library threaded =
	LAZY_LIBRARY_INIT("libm.so.6", threaded_names, threaded_slots);

static void test_loads_on_first_use(void)
{
	const char *msg;
	double (*sqrt_fn)(double);

	ok(!lazy_loaded(&libm), "not loaded before it is asked for");
	capture_start();
	is_int(lazy_load(&libm), 0, "libm.so.6 loads");
	msg = capture_end();
	is_str(msg, "", "quietly");
	ok(lazy_loaded(&libm), "and is then loaded");
	sqrt_fn = (double (*)(double))libm_slots[1];
	ok(sqrt_fn && sqrt_fn(81.0) == 9.0, "each name resolved to its own function");
	is_int(lazy_load(&libm), 0, "asking again is answered from the first load");
}

static void test_missing_library(void)
{
	const char *msg;

	capture_start();
	is_int(lazy_load(&missing), -1, "a library that is not there fails");
	msg = capture_end();
	like(msg, "error: cannot load libsre-no-such-library.so.1: ", "naming the soname");
	like(msg, "No such file", "and the loader's reason");
	ok(!lazy_loaded(&missing), "and is not loaded");
	capture_start();
	is_int(lazy_load(&missing), -1, "asking again fails again");
	msg = capture_end();
	is_str(msg, "", "without saying it twice");
}

static void test_missing_function(void)
{
	const char *msg;

	capture_start();
	is_int(lazy_load(&lacking), -1, "a library without one of the functions fails");
	msg = capture_end();
	like(msg, "cannot load libm.so.6: it has no sre_no_such_function", "naming the function");
	ok(!lazy_loaded(&lacking), "and none of its functions is handed out");
}

static void *load_from_thread(void *arg)
{
	int *r = arg;

	*r = lazy_load(&threaded);
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[8];
	int r[8], started = 0, all = 1;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		r[i] = -2;
		if (!pthread_create(&t[i], NULL, load_from_thread, &r[i]))
			started++;
		else
			break;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		all = all && r[i] == 0;
	}
	is_int(started, 8, "eight threads asked at once");
	ok(all, "each of them got the library");
	ok(((double (*)(double))threaded_slots[0])(4.0) == 2.0, "resolved once, correctly");
}

int main(void)
{
	if (test_begin("lazy-load") < 0)
		return 1;
	test_loads_on_first_use();
	test_missing_library();
	test_missing_function();
	test_threads();
	return test_end();
}
