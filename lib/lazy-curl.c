/*
 * lazy-curl.c: the libcurl functions sre calls, loading libcurl on the
 * first of them; see lazy-load.h for why.
 *
 * Each function is defined under libcurl's own name with the prototype
 * of <curl/curl.h> (so the compiler checks it and callers, with curl's
 * type-checking macros, are unchanged) and forwards to the real one.
 * libcurl has several entry points (a request starts at
 * curl_global_init(), a URL check at curl_url()), so each function loads
 * it when needed, and when it cannot be loaded returns what libcurl itself
 * returns for a failure of that call: NULL, an error code, -1 for a date.
 * The load error is printed once, naming the soname and why.
 */
#include <curl/curl.h>
#include <stdarg.h>

#include "lazy-load.h"

#ifndef SRE_CURL_SONAME
#define SRE_CURL_SONAME "libcurl.so.4"
#endif

/*
 * FN(name, return type, parameters, arguments, what to return when
 * libcurl cannot be loaded); VOID_FN for those that return nothing;
 * BY_HAND for the variadic two, written out below.
 */
#define CURL_FUNCTIONS(FN, VOID_FN, BY_HAND) \
	VOID_FN(curl_easy_cleanup, (CURL *curl), (curl)) \
	BY_HAND(curl_easy_getinfo) \
	FN(curl_easy_init, CURL *, (void), (), NULL) \
	BY_HAND(curl_easy_setopt) \
	FN(curl_easy_strerror, const char *, (CURLcode code), (code), "libcurl cannot be loaded") \
	VOID_FN(curl_free, (void *p), (p)) \
	FN(curl_getdate, time_t, (const char *p, const time_t *unused), (p, unused), -1) \
	FN(curl_global_init, CURLcode, (long flags), (flags), CURLE_FAILED_INIT) \
	FN(curl_multi_add_handle, CURLMcode, (CURLM *multi, CURL *easy), (multi, easy), \
	   CURLM_INTERNAL_ERROR) \
	FN(curl_multi_cleanup, CURLMcode, (CURLM *multi), (multi), CURLM_INTERNAL_ERROR) \
	FN(curl_multi_info_read, CURLMsg *, (CURLM *multi, int *msgs_in_queue), \
	   (multi, msgs_in_queue), NULL) \
	FN(curl_multi_init, CURLM *, (void), (), NULL) \
	FN(curl_multi_perform, CURLMcode, (CURLM *multi, int *running), (multi, running), \
	   CURLM_INTERNAL_ERROR) \
	FN(curl_multi_poll, CURLMcode, \
	   (CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds, \
	    int timeout_ms, int *ret), \
	   (multi, extra_fds, extra_nfds, timeout_ms, ret), CURLM_INTERNAL_ERROR) \
	FN(curl_multi_remove_handle, CURLMcode, (CURLM *multi, CURL *easy), (multi, easy), \
	   CURLM_INTERNAL_ERROR) \
	FN(curl_slist_append, struct curl_slist *, (struct curl_slist *list, const char *data), \
	   (list, data), NULL) \
	VOID_FN(curl_slist_free_all, (struct curl_slist *list), (list)) \
	FN(curl_url, CURLU *, (void), (), NULL) \
	VOID_FN(curl_url_cleanup, (CURLU *handle), (handle)) \
	FN(curl_url_get, CURLUcode, \
	   (CURLU *handle, CURLUPart what, char **part, unsigned int flags), \
	   (handle, what, part, flags), CURLUE_OUT_OF_MEMORY) \
	FN(curl_url_set, CURLUcode, \
	   (CURLU *handle, CURLUPart what, const char *part, unsigned int flags), \
	   (handle, what, part, flags), CURLUE_OUT_OF_MEMORY)

#define SLOT_OF(name) SLOT_##name,
#define SLOT_FN(name, ret, params, args, fail) SLOT_OF(name)
#define SLOT_VOID_FN(name, params, args) SLOT_OF(name)
enum { CURL_FUNCTIONS(SLOT_FN, SLOT_VOID_FN, SLOT_OF) NR_SLOTS };

#define NAME_OF(name) #name,
#define NAME_FN(name, ret, params, args, fail) NAME_OF(name)
#define NAME_VOID_FN(name, params, args) NAME_OF(name)
static const char *const names[] = { CURL_FUNCTIONS(NAME_FN, NAME_VOID_FN, NAME_OF) };

static void *slots[NR_SLOTS];
static struct lazy_library libcurl = LAZY_LIBRARY_INIT(SRE_CURL_SONAME, names, slots);

/* The real function behind our definition of name. */
#define REAL(name) ((__typeof__(&name))slots[SLOT_##name])

/* The name in parentheses: curl.h may define it as a type-checking macro. */
#define DEFINE_FN(name, ret, params, args, fail) \
	ret (name) params \
	{ \
		if (lazy_load(&libcurl) < 0) \
			return fail; \
		return REAL(name) args; \
	}
#define DEFINE_VOID_FN(name, params, args) \
	void (name) params \
	{ \
		if (lazy_load(&libcurl) < 0) \
			return; \
		REAL(name) args; \
	}
#define DEFINE_BY_HAND(name)
CURL_FUNCTIONS(DEFINE_FN, DEFINE_VOID_FN, DEFINE_BY_HAND)

/*
 * The option's number says the type of its one argument (curl.h's
 * CURLOPTTYPE_* ranges), as curl's own setopt reads it: read that type
 * and pass it on as that type.
 */
CURLcode (curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode r;

	if (lazy_load(&libcurl) < 0)
		return CURLE_FAILED_INIT;
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_off_t));
	else
		r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, struct curl_blob *));
	va_end(ap);
	return r;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode (curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	void *out;

	if (lazy_load(&libcurl) < 0)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	out = va_arg(ap, void *);
	va_end(ap);
	return REAL(curl_easy_getinfo)(curl, info, out);
}

const char *lazy_curl_soname(void)
{
	return libcurl.soname;
}
