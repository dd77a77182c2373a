/*
 * oracle_libjwt: the only file that includes libjwt 1.10's <jwt.h>.  It is
 * built without -Icommon, whose jwt.h (ours) would shadow libjwt's.
 */
#include "oracle.h"

#include <limits.h>
#include <stdlib.h>

#include <jwt.h>
#include <openssl/err.h>

/* Takes an oracle and a token; returns 1 if libjwt accepts the token with
 * o's key and reads o's algorithm from it, else 0. */
int
oracle_libjwt(const struct oracle *o, const char *token)
{
    jwt_t *j = NULL;
    int ok = 0;

    if (o->keylen == 0 || o->keylen > INT_MAX)
        goto out;
    if (jwt_decode(&j, token, o->key, (int)o->keylen) != 0 || j == NULL)
        goto out;
    ok = jwt_get_alg(j) == jwt_str_alg(o->alg);
out:
    jwt_free(j);
    /* OpenSSL queues what went wrong (a key that is not PEM, a bad
     * signature), allocating as it goes; the queue is dropped here so that
     * each call frees what it allocated, or libFuzzer, which counts
     * mallocs and frees per input, runs a full leak scan after each. */
    ERR_clear_error();
    return ok;
}

/* Takes a token and a key of keylen bytes; returns jwt_decode()'s answer,
 * and on 0 the algorithm libjwt read (a static string) in *alg and the
 * exp claim (-1 when absent) in *exp. */
int
oracle_libjwt_decode(const char *token, const void *key, size_t keylen,
                     const char **alg, long *exp)
{
    jwt_t *j = NULL;
    int rc;

    *alg = NULL;
    *exp = -1;
    if (keylen > INT_MAX)
        return -1;
    rc = jwt_decode(&j, token, key, (int)keylen);
    if (rc == 0 && j != NULL) {
        *alg = jwt_alg_str(jwt_get_alg(j));
        *exp = jwt_get_grant_int(j, "exp");
    }
    jwt_free(j);
    return rc;
}

/* Takes an algorithm name, a key (secret or private PEM), a subject and an
 * expiry; returns the token libjwt signs for {"sub": sub, "exp": exp}
 * (caller frees), or NULL. */
char *
oracle_libjwt_mint(const char *alg, const void *key, size_t keylen,
                   const char *sub, long exp)
{
    jwt_t *j = NULL;
    char *t = NULL;

    if (keylen > INT_MAX || jwt_new(&j) != 0)
        goto out;
    if (jwt_add_grant(j, "sub", sub) != 0 ||
        jwt_add_grant_int(j, "exp", exp) != 0 ||
        jwt_set_alg(j, jwt_str_alg(alg), key, (int)keylen) != 0)
        goto out;
    t = jwt_encode_str(j);
out:
    jwt_free(j);
    return t;
}
