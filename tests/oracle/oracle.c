/*
 * oracle: signing test tokens with OpenSSL, our verdict, and the
 * comparison with libjwt's (oracle_libjwt.c).  Tokens are encoded with
 * OpenSSL's base64, not ours, so that the oracle does not lean on the code
 * it checks.
 */
#include "oracle.h"
#include "../../common/jwt.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

/* Takes an algorithm name; returns its digest, or NULL if unknown. */
static const EVP_MD *
md_of(const char *alg)
{
    if (strcmp(alg, "HS256") == 0 || strcmp(alg, "RS256") == 0 ||
        strcmp(alg, "ES256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "HS384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "HS512") == 0)
        return EVP_sha512();
    return NULL;
}

/* Takes a DER ECDSA signature of n bytes; writes r||s (32 bytes each) to
 * out.  Returns 0, or -1 if it does not parse or a number does not fit. */
static int
der_to_raw(const unsigned char *der, size_t n, unsigned char out[64])
{
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *es;
    int rc = -1;

    if (n > LONG_MAX || (es = d2i_ECDSA_SIG(NULL, &p, (long)n)) == NULL)
        return -1;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32)
        rc = 0;
    ECDSA_SIG_free(es);
    return rc;
}

/* Takes an oracle and n bytes; returns their signature under o->alg
 * (caller frees) with its length in *siglen, or NULL. */
unsigned char *
oracle_sign(const struct oracle *o, const void *msg, size_t n, size_t *siglen)
{
    const EVP_MD *md = md_of(o->alg);
    unsigned char *sig = NULL, *r = NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned len = 0;
    size_t slen = 0;

    if (md == NULL)
        goto out;
    if (o->alg[0] == 'H') {
        if (o->keylen > INT_MAX || (sig = malloc(EVP_MAX_MD_SIZE)) == NULL ||
            HMAC(md, o->key, (int)o->keylen, msg, n, sig, &len) == NULL)
            goto out;
        slen = len;
    } else {
        if (o->priv == NULL || (ctx = EVP_MD_CTX_new()) == NULL ||
            EVP_DigestSignInit(ctx, NULL, md, NULL, o->priv) != 1 ||
            EVP_DigestSign(ctx, NULL, &slen, msg, n) != 1 ||
            (sig = malloc(slen > 64 ? slen : 64)) == NULL ||
            EVP_DigestSign(ctx, sig, &slen, msg, n) != 1)
            goto out;
        if (strcmp(o->alg, "ES256") == 0) {
            unsigned char raw[64];

            if (der_to_raw(sig, slen, raw) != 0)
                goto out;
            memcpy(sig, raw, 64);
            slen = 64;
        }
    }
    *siglen = slen;
    r = sig;
    sig = NULL;
out:
    EVP_MD_CTX_free(ctx);
    free(sig);
    return r;
}

/* Takes n bytes; returns their unpadded base64url (caller frees), or
 * NULL. */
char *
oracle_b64url(const void *in, size_t n)
{
    char *out;
    size_t i, len;

    if (n > INT_MAX / 2 || (out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
        return NULL;
    len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

/* Takes n bytes of "header.payload" and a signature; returns the token
 * (caller frees), or NULL. */
char *
oracle_join(const char *hp, size_t n, const unsigned char *sig, size_t siglen)
{
    char *s = oracle_b64url(sig, siglen), *t = NULL;
    size_t slen;

    if (s == NULL)
        return NULL;
    slen = strlen(s);
    if ((t = malloc(n + 1 + slen + 1)) != NULL) {
        memcpy(t, hp, n);
        t[n] = '.';
        memcpy(t + n + 1, s, slen + 1);
    }
    free(s);
    return t;
}

/* Takes an oracle, a token and the time; returns 1 if our verifier finds
 * its signature good (JWT_OK or JWT_EXPIRED), else 0. */
int
oracle_ours(const struct oracle *o, const char *token, time_t now)
{
    struct jwt_identity id;
    enum jwt_status st = jwt_verify(o->policy, token, now, &id);

    ERR_clear_error();          /* see oracle_libjwt() */
    return st == JWT_OK || st == JWT_EXPIRED;
}

/* Takes a signature segment; returns 1 if it is canonical unpadded
 * base64url (the only encoding we accept), else 0. */
static int
canonical_sig(const char *s)
{
    size_t n = strlen(s), len;
    unsigned char *buf;
    int ok;

    if ((buf = malloc(n + 1)) == NULL)
        return 0;
    ok = jwt_b64url_decode(s, n, buf, n + 1, &len) == 0;
    free(buf);
    return ok;
}

/* Takes a token and an algorithm name; returns 1 if the first segment is
 * base64url of a JSON object whose "alg" is that name, else 0.  Laxer than
 * jwt_verify() (json-c's default parser, the name up to a NUL), so a 0
 * means we refuse the token whatever its signature. */
static int
header_names(const char *token, const char *alg)
{
    size_t n = strcspn(token, "."), len;
    struct json_object *h = NULL, *v;
    unsigned char *buf;
    int ok = 0;

    if ((buf = malloc(n + 1)) == NULL)
        return 0;
    if (jwt_b64url_decode(token, n, buf, n, &len) == 0) {
        buf[len] = '\0';
        h = json_tokener_parse((const char *)buf);
        ok = json_object_object_get_ex(h, "alg", &v) &&
             json_object_is_type(v, json_type_string) &&
             strcmp(json_object_get_string(v), alg) == 0;
    }
    json_object_put(h);
    free(buf);
    return ok;
}

/* Takes an oracle, a token and the time; returns whether we and libjwt
 * agree on its signature (see oracle.h). */
enum oracle_verdict
oracle_compare(const struct oracle *o, const char *token, time_t now)
{
    int ours = oracle_ours(o, token, now), theirs;
    const char *d1, *d2;
    unsigned char *sig = NULL;
    char *fresh = NULL;
    size_t siglen;
    enum oracle_verdict v = ORACLE_UNCOMPARED;

    /* No signature can make us take a header that does not name the pinned
     * algorithm, so there is no divergence to find and libjwt (a
     * millisecond per PEM key it parses) is spared. */
    if (!ours && !header_names(token, o->alg))
        return ORACLE_UNCOMPARED;
    theirs = oracle_libjwt(o, token);
    if (ours == theirs)
        return ours ? ORACLE_ACCEPT : ORACLE_REJECT;
    /* Both split at the first two dots; a token with fewer is refused by
     * both, so d2 exists here unless we accepted one. */
    if ((d1 = strchr(token, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL)
        return ours ? ORACLE_DIVERGE : ORACLE_UNCOMPARED;
    if (!canonical_sig(d2 + 1))
        return ours ? ORACLE_DIVERGE : ORACLE_UNCOMPARED;
    if ((sig = oracle_sign(o, token, (size_t)(d2 - token), &siglen)) == NULL ||
        (fresh = oracle_join(token, (size_t)(d2 - token), sig, siglen)) == NULL)
        goto out;
    if (oracle_ours(o, fresh, now) && oracle_libjwt(o, fresh))
        v = ORACLE_DIVERGE;
out:
    free(sig);
    free(fresh);
    return v;
}
