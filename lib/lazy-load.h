/*
 * lazy-load.h: libcurl and libgit2 loaded on first use, not at start-up.
 *
 * Most of what `sre --version` cost was the dynamic loader bringing in
 * libcurl and libgit2 and the thirty-odd libraries they need (TLS, SSH,
 * Kerberos, LDAP, IDN, HTTP/2): about 8 ms of its 9.2, against 1.2 ms for
 * all of `git --version` (make bench, bench-startup). git keeps libcurl
 * out of its main binary by putting HTTP in a separate program
 * (git-remote-https); sre's network is used from inside most commands
 * (scout's sources, diagnose's collectors, the tracker behind incident
 * and sync), so the same cut would mean exec'ing a second binary halfway
 * through. Instead the binary is not linked with either library. It
 * defines, under their own names, the functions of theirs it calls
 * (lib/lazy-curl.c, lib/lazy-libgit2.c); the first call loads the library
 * with dlopen() by the soname it was built against and resolves every one
 * of those names at once. Commands that make no request and open no
 * repository (help, version, config, incident list/show/open with no
 * tracker) never load them; the others pay what they paid before, once.
 *
 * A library that cannot be loaded, or lacks one of the functions, is an
 * error at the point of use, named with its soname and the reason
 * (dlerror), instead of the loader refusing to start sre at all: each
 * library has an entry point its callers already check (curl_global_init,
 * git_libgit2_init), which fails; see each file for the rest.
 *
 * Adding a call to a libcurl or libgit2 function sre did not use before:
 * the link fails with "undefined reference to ..."; add its row to the
 * list at the top of lib/lazy-curl.c or lib/lazy-libgit2.c, with the
 * prototype from the library's header (the compiler checks it).
 */
#ifndef SRE_LAZY_LOAD_H
#define SRE_LAZY_LOAD_H

#include <pthread.h>
#include <stddef.h>

struct lazy_library {
	const char *soname;         /* what dlopen() is given */
	const char *const *symbols; /* the functions to resolve */
	void **slots;               /* where each goes, in the same order */
	size_t nr;
	pthread_mutex_t lock;
	int state;                  /* 0 not tried, 1 loaded, -1 failed */
};

#define LAZY_LIBRARY_INIT(soname, symbols, slots) \
	{ (soname), (symbols), (slots), sizeof(symbols) / sizeof(*(symbols)), \
	  PTHREAD_MUTEX_INITIALIZER, 0 }

/*
 * Load lib and resolve all of its symbols, once per process; safe from
 * any thread. 0 when loaded; -1 when it cannot be, after error() naming
 * the soname and why (printed on the first failure only: a later call
 * fails quietly, as the caller's own error will say what was not done).
 */
int lazy_load(struct lazy_library *lib);

/* 1 when lib has been loaded (a cheap check for each call's fast path). */
int lazy_loaded(struct lazy_library *lib);

/* The sonames sre loads, for `sre version --build-options`. */
const char *lazy_curl_soname(void);
const char *lazy_libgit2_soname(void);

#endif
