/*
 * json.h: the one set of typed getters over cJSON.
 *
 * Everything sre reads as JSON arrives from outside (a server's answer, a
 * ticket's record block, a bundle on disk), so every getter takes what it
 * is given: obj may be NULL or of any type, a member may be missing or of
 * the wrong type, and the answer is then NULL, 0 or -1, never a crash. A
 * string comes back borrowed from obj unless the name says it is copied.
 *
 * Numbers are range-checked before any cast: casting a NaN, an infinity
 * or 1e300 to an integer is undefined behaviour, not a large number.
 */
#ifndef SRE_JSON_H
#define SRE_JSON_H

#include <cJSON.h>

/*
 * Members: obj's member key (case-sensitive), or NULL. Not const, as
 * cJSON's own getter is not: a caller that owns obj may edit what it finds
 * (move an item, delete a label).
 */
cJSON *json_get(const cJSON *obj, const char *key);
/* The member key when it is an object, or NULL. */
const cJSON *json_object(const cJSON *obj, const char *key);
/* The member key when it is an array, or NULL. */
const cJSON *json_array(const cJSON *obj, const char *key);
/* The value at a dotted path of object members ("fields.status.name"), or NULL. */
const cJSON *json_path(const cJSON *obj, const char *path);

/* Strings: the string member key, or NULL. Borrowed. */
const char *json_string(const cJSON *obj, const char *key);
/* The string member key when it is not empty, or NULL. Borrowed. */
const char *json_nonempty(const cJSON *obj, const char *key);
/* The string member key, or fallback when there is none. Borrowed. */
const char *json_string_or(const cJSON *obj, const char *key, const char *fallback);
/* The string at a dotted path, or NULL. Borrowed. */
const char *json_path_string(const cJSON *obj, const char *path);
/* Is the member key the string want? */
int json_string_is(const cJSON *obj, const char *key, const char *want);
/* A copy of the string member key, or NULL; the caller frees. */
char *json_text(const cJSON *obj, const char *key);

/*
 * Numbers. double_to_ll: d, truncated toward zero, when it is finite and
 * in [min, max]; 0, or -1 (out untouched). json_to_ll: the same for a
 * JSON number, which must also be whole (a count, an id, a time in µs); a
 * missing item, a string or a fraction is -1. json_ll: json_to_ll of the
 * member key. json_int: the member key as a whole number within ±2^53,
 * or 0 when it is anything else (NaN, 1e300, 1.5, a string).
 */
#define JSON_INT_MAX 9007199254740992LL /* 2^53: past it a double is not exact */
int double_to_ll(double d, long long min, long long max, long long *out);
int json_to_ll(const struct cJSON *v, long long min, long long max, long long *out);
int json_ll(const cJSON *obj, const char *key, long long min, long long max, long long *out);
long long json_int(const cJSON *obj, const char *key);

/* Is the member key JSON true? */
int json_bool(const cJSON *obj, const char *key);

/* A deep copy of obj, or an empty object when obj is NULL; the caller's. */
cJSON *json_copy(const cJSON *obj);

/* Add member key to obj: the string s, or null when s is NULL. */
void json_add_string_or_null(cJSON *obj, const char *key, const char *s);
/* key: an array of text's lines, one string each ([] for NULL or ""). */
void json_add_lines(cJSON *obj, const char *key, const char *text);
/* Append {source, summary} to arr: a line of evidence, as diagnoses print them. */
void json_add_quote(cJSON *arr, const char *source, const char *summary);

#endif
