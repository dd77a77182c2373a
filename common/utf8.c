/*
 * utf8.c: validation, code point counting and white-space trimming.
 */
#include "utf8.h"

#include <stdint.h>

/*
 * Decodes one code point at s[0..n); returns its length in bytes, or 0 when
 * the sequence is malformed.  *cp receives the code point.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; c &= 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; c &= 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; c &= 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

size_t utf8_seq(const char *s, size_t n)
{
    uint32_t cp;

    return n == 0 ? 0 : decode((const unsigned char *)s, n, &cp);
}

int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        k = decode(p + i, n - i, &cp);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

size_t utf8_len(const char *s, size_t n)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            count++;
    return count;
}

/* White space as Python's str.isspace() sees it. */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) ||
           c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

void utf8_trim(const char *s, size_t n, size_t *start, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, end = 0, k;
    int seen = 0;
    uint32_t cp;

    *start = n;
    while (i < n) {
        k = decode(p + i, n - i, &cp);
        if (k == 0) {
            k = 1;
            cp = 0xfffd;
        }
        if (!is_space(cp)) {
            if (!seen) {
                *start = i;
                seen = 1;
            }
            end = i + k;
        }
        i += k;
    }
    *len = seen ? end - *start : 0;
    if (!seen)
        *start = 0;
}
