/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to libvigil: the bounded output buffer and UTF-8 helpers that
 * masking uses (lib/normalize.c for the built-in masks, lib/policy_mask.c
 * for the policy's styles), and the e-mail mask both share.  Inputs are
 * valid UTF-8 (canonical values).  Also the bounded string copy of the
 * fixed-size records (principals, cases).
 */
#ifndef VIGIL_TEXTBUF_H
#define VIGIL_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The output; invariant len < cap, full records a write that did not fit. */
struct wbuf {
	char *p;
	size_t len, cap;
	bool full;
};

/* Copies src into dst[cap], cut to fit, always NUL-terminated. */
static inline void
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The value of key in an audit detail such as "assignee=a,channel=phone":
 * copied into out (cut to fit); 0 when absent. */
static inline int
detail_get(const char *detail, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *s = detail;

	while (*s != '\0') {
		const char *end = s + strcspn(s, ", ");

		if ((size_t)(end - s) > kl && memcmp(s, key, kl) == 0 &&
		    s[kl] == '=') {
			size_t n = (size_t)(end - s) - kl - 1;

			if (n >= cap)
				n = cap - 1;
			memcpy(out, s + kl + 1, n);
			out[n] = '\0';
			return 1;
		}
		s = *end != '\0' ? end + 1 : end;
	}
	return 0;
}

/* Appends s[0..n) to w, or marks w full when it does not fit. */
static inline void
put(struct wbuf *w, const char *s, size_t n)
{
	if (w->full || n > w->cap - 1 - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* Appends n stars to w. */
static inline void
stars(struct wbuf *w, size_t n)
{
	while (n-- > 0)
		put(w, "*", 1);
}

/* Length of the code point starting at s[i] in s[0..len). */
static inline size_t
cp_len(const char *s, size_t len, size_t i)
{
	size_t n = 1;

	while (i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* Number of code points in s[0..len). */
static inline size_t
cp_count(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* "z***@example.com": first character, three stars, the domain; a
 * one-character local part is "*@example.com"; no usable '@': "****". */
static inline void
mask_email(struct wbuf *w, const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t llen, first;

	if (at == NULL || at == s || at == s + len - 1) {
		stars(w, 4);
		return;
	}
	llen = (size_t)(at - s);
	first = cp_len(s, len, 0);
	if (first >= llen) {
		stars(w, 1);
	} else {
		put(w, s, first);
		stars(w, 3);
	}
	put(w, at, len - llen);
}

#endif
