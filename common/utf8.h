/*
 * utf8: the few Unicode facts the API needs, on byte strings.
 *
 * utf8_valid() checks well-formed UTF-8 (no overlongs, no surrogates, nothing
 * past U+10FFFF).  utf8_len() counts code points of valid UTF-8, which is
 * what API.md's length limits count.  utf8_trim() finds the span left after
 * removing leading and trailing white space as Python's str.strip() sees it
 * (ASCII space, tab, newlines, vertical tab, form feed, the C1 and Unicode
 * space separators).  Nothing here allocates.
 */
#ifndef TODO_UTF8_H
#define TODO_UTF8_H

#include <stddef.h>

int utf8_valid(const char *s, size_t n);       /* 1 or 0 */
/* The length of the well-formed sequence at s (at most n bytes), else 0. */
size_t utf8_seq(const char *s, size_t n);
size_t utf8_len(const char *s, size_t n);
/* Sets *start and *len to the trimmed span of s[0..n). */
void utf8_trim(const char *s, size_t n, size_t *start, size_t *len);

#endif
