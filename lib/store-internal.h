/*
 * store-internal.h: the store's insides, for the modules that keep their
 * own tables in it (lib/memory.c, lib/log-patterns.c) but not for anyone
 * else. Their SQL stays beside the code that needs it; the connection,
 * the statement cache and the transactions stay store.c's.
 */
#ifndef SRE_STORE_INTERNAL_H
#define SRE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

/*
 * Statements are prepared once and kept: parsing SQL was half the cost of
 * opening an incident (bench/bench-store.c). The SQL texts are the
 * literals of store.c and of the modules that include this header, so
 * the cache is small and fixed.
 */
#define STMT_CACHE 64

struct store {
	sqlite3 *db;
	char *path;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
	int ncache;
	int depth; /* store_begin() nesting: only the outermost commits */
	int64_t busy_timeout_ms;
	int deliver_fd; /* the delivery lock, when held; else -1 */
	long long *leases; /* the incidents whose lease this process holds */
	size_t nleases, alloc_leases;
};

/* A cached prepared statement for sql (a string literal); give it back with store_done(). */
int store_prepare(struct store *st, sqlite3_stmt **stmt, const char *sql);
/* Reset a statement from store_prepare() for its next use (NULL is fine). */
void store_done(struct store *st, sqlite3_stmt *stmt);
/* Run one statement that returns no rows. */
int store_run(struct store *st, const char *sql);
/* Run several statements (no rows), uncached. */
int store_exec(struct store *st, const char *sql);
/* error() naming the store and what failed; returns -1. */
int store_db_error(struct store *st, const char *what);

#endif
