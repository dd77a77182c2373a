/*
 * file.c: see file.h.
 */
#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

char *file_read(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    int saved;

    if (f == NULL)
        return NULL;
    errno = 0;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    if ((size_t)n > max) {
        errno = EFBIG;
        goto out;
    }
    if ((buf = malloc((size_t)n + 1)) == NULL)
        goto out;
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        if (errno == 0)
            errno = EIO;
        goto out;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = (size_t)n;
out:
    saved = errno;
    fclose(f);
    errno = saved;
    return buf;
}
