/*
 * jwk_priv.h: what jwk.c (the key set, PEM keys, verification) shares with
 * jwk_json.c (keys from JWK and JWKS text).  Not for other modules: they
 * use jwk.h.
 */
#ifndef TODO_JWK_PRIV_H
#define TODO_JWK_PRIV_H

#include <stddef.h>

#include <openssl/evp.h>

#include "jwk.h"

#define ED25519_LEN 32          /* public key and half the signature */

/* Writes a printf-style message into err (may be NULL) of errlen bytes. */
void jwk_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns the reason of OpenSSL's latest error, or "unknown error". */
const char *jwk_ossl_reason(void);

/* Returns 0 if kid (a caller's argument) is NULL or at most JWT_KID_MAX
 * bytes, else -1 with err. */
int jwk_kid_ok(const char *kid, char *err, size_t errlen);

/* Checks a loaded public key (type, size, curve, OpenSSL's public check)
 * and adds it to set with the one algorithm its type verifies and kid
 * (kidlen bytes, copied; NULL for none); the set then owns pk.  Returns 0,
 * or -1 with err (prefixed by where) and pk still the caller's. */
int jwk_keep(struct jwt_keyset *set, EVP_PKEY *pk, const char *kid,
             size_t kidlen, const char *where, char *err, size_t errlen);

/* Frees the keys of set past the first n: undoes a failed jwt_keyset_add_*. */
void jwk_truncate(struct jwt_keyset *set, size_t n);

#endif
