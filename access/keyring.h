/*
 * keyring: the public keys a worker verifies tokens with, and where they
 * come from.  It reads the database (the jwks table), so it lives in
 * access/, above both the library and the database parts of common/.
 *
 * Keys from JWT_PUBLIC_KEY_FILE and JWT_JWKS_FILE are read once, at start.
 * Better Auth's jwks table (when JWT_JWKS_TABLE is on, or auto and the table
 * exists) is read on first use, again every reload_seconds
 * (JWT_JWKS_RELOAD_SECONDS, default 60) so that removed keys go, and at once
 * when a token names a kid no key has, at most once a second.  The keyring
 * owns its key sets and keeps the policy it was given pointing at the
 * current one.  When JWT_ALGORITHMS is unset, keyring_new() sets the
 * policy's allow-list once: HS256 with a secret, what the key files verify
 * and, when the table may be read, RS256, ES256 and EdDSA (whatever keys
 * the table holds later).
 */
#ifndef TODO_KEYRING_H
#define TODO_KEYRING_H

#include <stddef.h>

#include "../common/config.h"
#include "../common/db.h"
#include "../common/jwt.h"

struct keyring;

/*
 * Reads the key files (either path may be NULL) for policy, which must
 * outlive the keyring.  explicit_algs: JWT_ALGORITHMS was set, so the
 * allow-list is left alone.  NULL with one line in err on a bad file.
 */
struct keyring *keyring_new(struct jwt_policy *policy, int explicit_algs,
                            const char *pem_path, const char *jwks_path,
                            enum jwks_table table, long reload_seconds,
                            char *err, size_t errlen);
void keyring_free(struct keyring *k);       /* accepts NULL */

/*
 * Reads the jwks table when it is due: never read yet, reload_seconds since
 * the last read, or a second since when unknown_kid (a token named a kid no
 * key has).  Returns 1 when it was read.
 */
int keyring_refresh(struct keyring *k, struct db *db, int unknown_kid);

#endif
