/*
 * lazy-load.c: dlopen() on first use, for lib/lazy-curl.c and
 * lib/lazy-libgit2.c; see lazy-load.h for why.
 */
#include <dlfcn.h>

#include "lazy-load.h"
#include "util.h"

int lazy_loaded(struct lazy_library *lib)
{
	return __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE) == 1;
}

/*
 * RTLD_LOCAL keeps the library's names out of the global scope, where
 * they would meet our own definitions of the same names; RTLD_NOW makes
 * a library too old for one of its dependencies fail here, not later.
 */
static int load(struct lazy_library *lib)
{
	void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (!handle)
		return error("cannot load %s: %s", lib->soname, dlerror());
	for (size_t i = 0; i < lib->nr; i++) {
		dlerror();
		lib->slots[i] = dlsym(handle, lib->symbols[i]);
		if (!lib->slots[i]) {
			const char *why = dlerror();

			error("cannot load %s: it has no %s (%s)", lib->soname,
			      lib->symbols[i], why ? why : "no such symbol");
			dlclose(handle);
			return -1;
		}
	}
	/* Never closed: its functions are ours until exit. */
	return 0;
}

int lazy_load(struct lazy_library *lib)
{
	int state;

	if (lazy_loaded(lib))
		return 0;
	pthread_mutex_lock(&lib->lock);
	state = lib->state;
	if (!state) {
		state = load(lib) < 0 ? -1 : 1;
		__atomic_store_n(&lib->state, state, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lib->lock);
	return state == 1 ? 0 : -1;
}
