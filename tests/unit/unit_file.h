/*
 * unit_file.h: slurp(), a test file's text, for the unit programs that read
 * keys from tests/unit/keys.  Include it once, after cmocka.h.
 */
#include <stdio.h>
#include <stdlib.h>

/* Takes a file name relative to the repository root; returns its text
 * (caller frees). */
static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    size_t n;

    if (f == NULL)
        fail_msg("%s: cannot open (run from the repository root)", path);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}
