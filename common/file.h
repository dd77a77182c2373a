/*
 * file: a whole small file in memory (key files, migrations).
 */
#ifndef TODO_FILE_H
#define TODO_FILE_H

#include <stddef.h>

/* The file's bytes in a malloc'd, NUL-terminated buffer, its length in
 * *len (len may be NULL); NULL with errno set when it cannot be read or
 * holds more than max bytes (EFBIG). */
char *file_read(const char *path, size_t max, size_t *len);

#endif
