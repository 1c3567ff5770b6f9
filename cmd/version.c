/*
 * version.c: sre version, and with --build-options the libraries sre was
 * built with (libcurl and libgit2 by the soname loaded on first use; see
 * lib/lazy-load.h), and the line editor (GNU readline, or libedit with
 * READLINE=edit). `sre --version` is the same as `sre version`.
 */
#include <cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#ifdef SRE_LIBEDIT
#include <editline/readline.h>
#else
#include <readline/readline.h>
#endif

#include "builtin.h"
#include "../lib/lazy-load.h"

#ifndef SRE_VERSION
#define SRE_VERSION "unknown"
#endif

int cmd_version(int argc, const char **argv)
{
	static const char *const usage[] = { "sre version [--build-options]", NULL };
	static int build_options;
	static const struct option opts[] = {
		OPT_BOOL(0, "build-options", &build_options,
			 "also name the libraries sre uses, and when each is loaded"),
		OPT_END()
	};

	argc = parse_options_or_exit(argc, argv, opts, usage, 0);
	if (argc)
		usage_exit(usage, opts);
	printf("sre version %s\n", SRE_VERSION);
	if (build_options) {
		printf("libcurl: %s, loaded by the first request\n", lazy_curl_soname());
		printf("libgit2: %s, loaded when a repository is first opened\n",
		       lazy_libgit2_soname());
		printf("sqlite: %s\n", sqlite3_libversion());
		printf("cjson: %s\n", cJSON_Version());
#ifdef SRE_LIBEDIT
		printf("line editing: libedit (%s), for sre diagnose -i\n", rl_library_version);
#else
		printf("line editing: GNU readline %s, for sre diagnose -i\n", rl_library_version);
#endif
	}
	return 0;
}
