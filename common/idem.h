/*
 * idem: the Idempotency-Key of a POST (API.md, "Retrying safely"), the
 * parts that need no database.
 *
 * idem_key_check() is the header's declared rule: 1 to 255 visible ASCII
 * characters (pydantic's min_length, max_length and pattern, checked in
 * that order), reported as FastAPI reports a bad header, at
 * ["header", "Idempotency-Key"].  idem_fingerprint() names the request a
 * key was first used for: the hex SHA-256 of its method, path and body
 * bytes, each after a NUL (none of them holds one), so a retry matches only
 * when it sends the very same bytes.  Nothing here allocates.
 */
#ifndef TODO_IDEM_H
#define TODO_IDEM_H

#include <json-c/json.h>
#include <stddef.h>

#define IDEM_HEADER "Idempotency-Key"
#define IDEM_KEY_MAX 255
#define IDEM_FINGERPRINT_HEX 65         /* 64 hex digits and a NUL */

/* Appends the error for a malformed key to errs; 1 when it did, else 0. */
int idem_key_check(const char *key, json_object *errs);
void idem_fingerprint(const char *method, const char *path, const char *body,
                      size_t len, char out[IDEM_FINGERPRINT_HEX]);

#endif
