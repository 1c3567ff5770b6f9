/*
 * strbuf.h: the one growing string type (after git's strbuf).
 *
 * A strbuf always holds a NUL-terminated string in buf, even when empty,
 * so sb.buf can be passed anywhere a const char * is wanted. Nothing else
 * in sre does realloc arithmetic on text.
 */
#ifndef SRE_STRBUF_H
#define SRE_STRBUF_H

#include "util.h"

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Hand the string to the caller, who frees it; sb is reset to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addchars(struct strbuf *sb, int c, size_t n);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) SRE_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

void strbuf_trim(struct strbuf *sb);
void strbuf_rtrim(struct strbuf *sb);
void strbuf_tolower(struct strbuf *sb);

/*
 * Read a whole file descriptor or file. max is the most it will hold
 * (0: no cap); past it, the read fails with errno set to EFBIG.
 * Returns the bytes read, or -1 with errno set.
 */
long strbuf_read_fd(struct strbuf *sb, int fd, size_t max);
long strbuf_read_file(struct strbuf *sb, const char *path, size_t max);

/*
 * As strbuf_read_file(), for a path that configuration or another party
 * chose: a FIFO, a socket or a device is refused before it is read (it
 * could block forever, or never end), with errno ENODEV; a directory
 * with EISDIR. The open never blocks. Returns the bytes read, or -1.
 */
long strbuf_read_regular_file(struct strbuf *sb, const char *path, size_t max);

/*
 * Open path for reading, refusing what is not a regular file as
 * strbuf_read_regular_file() does. Returns the descriptor (blocking
 * again), or -1 with errno set.
 */
int open_regular_file(const char *path);

/* Read one line without its newline; returns EOF at end of input. */
int strbuf_getline(struct strbuf *sb, FILE *fp);

#endif
