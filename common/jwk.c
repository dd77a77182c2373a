/*
 * jwk: public keys for RS256, ES256 and EdDSA, loaded from PEM (here) or
 * JWK (jwk_json.c) and used through OpenSSL's EVP interface.
 *
 * Each key is stored with the one algorithm its type allows, decided when
 * it is loaded: an RSA key verifies RS256 only, a P-256 key ES256 only, an
 * Ed25519 key EdDSA only.  Nothing in a token can change that, which is
 * half of the defence against algorithm confusion (jwt.c holds the other
 * half: HS* tokens never reach this file).
 *
 * Keys are checked when they are added (size, curve, EVP_PKEY_public_check:
 * odd modulus and exponent, a point on the curve), so verification only
 * has to find the candidates and ask OpenSSL.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jwk_priv.h"
#include "pool.h"

#define RSA_MIN_BITS 2048       /* RFC 7518 3.3: 2048 or larger */
#define RSA_MAX_BITS (JWT_SIG_MAX * 8)
#define ES256_RAW 64            /* r || s, 32 bytes each (RFC 7518 3.4) */

struct key {
    EVP_PKEY *pk;
    unsigned alg;               /* the one enum jwt_alg this key verifies */
    char *kid;                  /* NULL: none */
    size_t kidlen;
};

struct jwt_keyset {
    struct key *v;
    size_t n, cap;
};

void jwk_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *jwk_ossl_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_peek_last_error());

    return r != NULL ? r : "unknown error";
}

/* -------------------------------------------------------------- the set */

/* Returns a new empty set (caller frees); out of memory is fatal. */
struct jwt_keyset *jwt_keyset_new(void)
{
    struct jwt_keyset *set = calloc(1, sizeof *set);

    if (set == NULL)
        die_oom();
    return set;
}

void jwk_truncate(struct jwt_keyset *set, size_t n)
{
    while (set->n > n) {
        set->n--;
        EVP_PKEY_free(set->v[set->n].pk);
        free(set->v[set->n].kid);
    }
}

/* Frees set and drops its references to its keys; accepts NULL. */
void jwt_keyset_free(struct jwt_keyset *set)
{
    if (set == NULL)
        return;
    jwk_truncate(set, 0);
    free(set->v);
    free(set);
}

/* Takes a set, a key (ownership passes to the set), its algorithm and its
 * kid (kidlen bytes, copied; NULL for none). */
static void set_push(struct jwt_keyset *set, EVP_PKEY *pk, unsigned alg, const char *kid,
                     size_t kidlen)
{
    struct key *k;
    size_t cap;

    if (set->n == set->cap) {
        cap = set->cap ? set->cap * 2 : 4;
        if ((k = reallocarray(set->v, cap, sizeof *k)) == NULL)
            die_oom();
        set->v = k;
        set->cap = cap;
    }
    k = &set->v[set->n];
    k->pk = pk;
    k->alg = alg;
    k->kid = NULL;
    k->kidlen = kidlen;
    if (kid != NULL) {
        if ((k->kid = malloc(kidlen + 1)) == NULL)
            die_oom();
        memcpy(k->kid, kid, kidlen);
        k->kid[kidlen] = '\0';
    }
    set->n++;
}

/* Takes a set (NULL: empty); returns a new set sharing its keys (each key
 * is reference-counted), which the caller frees. */
struct jwt_keyset *jwt_keyset_dup(const struct jwt_keyset *set)
{
    struct jwt_keyset *d = jwt_keyset_new();
    const struct key *k;
    size_t i;

    for (i = 0; set != NULL && i < set->n; i++) {
        k = &set->v[i];
        if (EVP_PKEY_up_ref(k->pk) != 1)
            die_oom();
        set_push(d, k->pk, k->alg, k->kid, k->kidlen);
    }
    return d;
}

/* Returns how many keys set holds (0 for NULL). */
size_t jwt_keyset_count(const struct jwt_keyset *set)
{
    return set != NULL ? set->n : 0;
}

/* Returns the enum jwt_alg bits of set's keys (0 for NULL or empty). */
unsigned jwt_keyset_algs(const struct jwt_keyset *set)
{
    unsigned m = 0;
    size_t i;

    for (i = 0; set != NULL && i < set->n; i++)
        m |= set->v[i].alg;
    return m;
}

/* ------------------------------------------------------ accepting a key */

int jwk_kid_ok(const char *kid, char *err, size_t errlen)
{
    if (kid != NULL && strlen(kid) > JWT_KID_MAX) {
        jwk_errf(err, errlen, "kid is longer than %d bytes", JWT_KID_MAX);
        return -1;
    }
    return 0;
}

/* Takes a loaded public key; stores the algorithm its type verifies in
 * *alg.  Returns 0, or -1 with err (prefixed by where) for another type, an
 * RSA modulus outside RSA_MIN_BITS..RSA_MAX_BITS, an EC curve other than
 * P-256 (or explicit curve parameters), or a key OpenSSL's public check
 * refuses. */
static int key_accept(EVP_PKEY *pk, unsigned *alg, const char *where, char *err,
                      size_t errlen)
{
    EVP_PKEY_CTX *ctx = NULL;
    char group[64];
    int bits, rc = -1;

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        bits = EVP_PKEY_get_bits(pk);
        if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
            jwk_errf(err, errlen, "%s: RSA key of %d bits (%d to %d allowed)",
                 where, bits, RSA_MIN_BITS, RSA_MAX_BITS);
            goto out;
        }
        *alg = JWT_RS256;
        break;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pk, group, sizeof group, NULL) != 1 ||
            strcmp(group, SN_X9_62_prime256v1) != 0) {
            jwk_errf(err, errlen, "%s: EC key not on P-256", where);
            goto out;
        }
        *alg = JWT_ES256;
        break;
    case EVP_PKEY_ED25519:
        *alg = JWT_EDDSA;
        break;
    default:
        jwk_errf(err, errlen, "%s: unsupported key type (RSA, EC P-256 or "
             "Ed25519)", where);
        goto out;
    }
    if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
        die_oom();
    if (EVP_PKEY_public_check(ctx) != 1) {
        jwk_errf(err, errlen, "%s: invalid public key (%s)", where, jwk_ossl_reason());
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int jwk_keep(struct jwt_keyset *set, EVP_PKEY *pk, const char *kid, size_t kidlen,
             const char *where, char *err, size_t errlen)
{
    unsigned alg;

    if (key_accept(pk, &alg, where, err, errlen) != 0)
        return -1;
    set_push(set, pk, alg, kid, kidlen);
    return 0;
}

/* ------------------------------------------------------------------ PEM */

/* Takes a set, len bytes of PEM text and a kid for its keys (may be NULL);
 * adds one key per PUBLIC KEY block.  Returns 0, or -1 with err and the set
 * unchanged if any block is not an acceptable public key, or none is
 * there. */
int jwt_keyset_add_pem(struct jwt_keyset *set, const char *pem, size_t len,
                       const char *kid, char *err, size_t errlen)
{
    char *name = NULL, *hdr = NULL, where[32];
    unsigned char *data = NULL;
    const unsigned char *p;
    EVP_PKEY *pk = NULL;
    BIO *b = NULL;
    long dlen;
    unsigned long e;
    size_t n0 = set != NULL ? set->n : 0, i;
    int rc = -1;

    ERR_clear_error();
    if (set == NULL || pem == NULL || len > INT_MAX) {
        jwk_errf(err, errlen, "PEM: bad arguments");
        goto out;
    }
    if (jwk_kid_ok(kid, err, errlen) != 0)
        goto out;
    if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
        die_oom();
    for (i = 1;; i++) {
        snprintf(where, sizeof where, "PEM block %zu", i);
        if (PEM_read_bio(b, &name, &hdr, &data, &dlen) != 1) {
            e = ERR_peek_last_error();
            if (i > 1 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break;          /* the end of the text */
            if (i == 1 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                jwk_errf(err, errlen, "no \"-----BEGIN PUBLIC KEY-----\" block");
            else
                jwk_errf(err, errlen, "%s: %s", where, jwk_ossl_reason());
            goto out;
        }
        /* Only SubjectPublicKeyInfo: a private key here is a mistake the
         * operator should hear about, and encrypted blocks need no
         * passphrase prompt. */
        if (strcmp(name, PEM_STRING_PUBLIC) != 0 || *hdr != '\0') {
            jwk_errf(err, errlen, "%s: \"%.40s\" is not a plain PUBLIC KEY", where,
                 name);
            goto out;
        }
        p = data;
        if ((pk = d2i_PUBKEY(NULL, &p, dlen)) == NULL || p != data + dlen) {
            jwk_errf(err, errlen, "%s: bad public key (%s)", where, jwk_ossl_reason());
            goto out;
        }
        if (jwk_keep(set, pk, kid, kid != NULL ? strlen(kid) : 0, where, err,
                     errlen) != 0)
            goto out;
        pk = NULL;
        OPENSSL_free(name);
        OPENSSL_free(hdr);
        OPENSSL_free(data);
        name = hdr = NULL;
        data = NULL;
    }
    rc = 0;
out:
    if (rc != 0 && set != NULL)
        jwk_truncate(set, n0);
    EVP_PKEY_free(pk);
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(data);
    BIO_free(b);
    ERR_clear_error();
    return rc;
}

/* --------------------------------------------------------- verification */

/* Takes a JWS ES256 signature (r || s, 32 bytes each) and a buffer of cap
 * bytes; writes the DER ECDSA-Sig-Value OpenSSL verifies and stores its
 * length in *len.  Returns 0, or -1 if it does not fit. */
static int es256_der(const unsigned char *raw, unsigned char *der, size_t cap,
                     size_t *len)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *p = der;
    int n, rc = -1;

    if ((es = ECDSA_SIG_new()) == NULL ||
        (r = BN_bin2bn(raw, ES256_RAW / 2, NULL)) == NULL ||
        (s = BN_bin2bn(raw + ES256_RAW / 2, ES256_RAW / 2, NULL)) == NULL ||
        ECDSA_SIG_set0(es, r, s) != 1)
        die_oom();
    if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 || (size_t)n > cap ||
        i2d_ECDSA_SIG(es, &p) != n)
        goto out;
    *len = (size_t)n;
    rc = 0;
out:
    ECDSA_SIG_free(es);
    return rc;
}

/* Takes a key, its algorithm, the signed bytes and a signature in the form
 * OpenSSL wants (DER for ES256); returns 0 if it verifies, else -1. */
static int pkey_verify(EVP_PKEY *pk, unsigned alg, const unsigned char *msg,
                       size_t msglen, const unsigned char *sig, size_t siglen)
{
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx;
    int rc = -1;

    /* RS256: a signature is exactly as long as the modulus (RFC 8017 8.2.2). */
    if (alg == JWT_RS256 && siglen != (size_t)EVP_PKEY_get_size(pk))
        return -1;
    if ((ctx = EVP_MD_CTX_new()) == NULL)
        die_oom();
    /* Ed25519 hashes internally: no digest, and one-shot verify only. */
    if (EVP_DigestVerifyInit(ctx, &pctx, alg == JWT_EDDSA ? NULL : EVP_sha256(),
                             NULL, pk) != 1)
        goto out;
    if (alg == JWT_RS256 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    if (EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1)
        rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Takes a set, the token's alg and kid (NULL: none), the signed bytes and
 * the decoded signature.  Returns JWT_OK if a key of alg's type (with that
 * kid) verifies it, JWT_UNKNOWN_KID if kid names no key of that type,
 * else JWT_INVALID.  Leaves OpenSSL's error queue empty. */
enum jwt_status jwt_keyset_verify(const struct jwt_keyset *set, enum jwt_alg alg,
                                  const char *kid, size_t kidlen, const unsigned char *msg,
                                  size_t msglen, const unsigned char *sig, size_t siglen)
{
    unsigned char der[2 * (ES256_RAW / 2 + 3) + 2];
    const unsigned char *s = sig;
    const struct key *k;
    enum jwt_status rc = JWT_INVALID;
    size_t slen = siglen, i;
    int candidates = 0;

    if (alg != JWT_RS256 && alg != JWT_ES256 && alg != JWT_EDDSA)
        goto out;
    /* A kid no key could have: invalid, not worth reloading keys for. */
    if (kid != NULL && kidlen > JWT_KID_MAX)
        goto out;
    /* JWS ES256 is the fixed-length r || s; a DER signature, or any other
     * length, is refused rather than guessed at. */
    if (alg == JWT_ES256 &&
        (siglen != ES256_RAW || es256_der(sig, der, sizeof der, &slen) != 0))
        goto out;
    if (alg == JWT_ES256)
        s = der;
    if (alg == JWT_EDDSA && siglen != 2 * ED25519_LEN)
        goto out;
    for (i = 0; set != NULL && i < set->n; i++) {
        k = &set->v[i];
        /* Only keys whose type belongs to the token's alg, ever. */
        if (k->alg != (unsigned)alg)
            continue;
        if (kid != NULL && (k->kid == NULL || k->kidlen != kidlen ||
                            memcmp(k->kid, kid, kidlen) != 0))
            continue;
        candidates++;
        if (pkey_verify(k->pk, k->alg, msg, msglen, s, slen) == 0) {
            rc = JWT_OK;
            goto out;
        }
    }
    if (kid != NULL && candidates == 0)
        rc = JWT_UNKNOWN_KID;
out:
    ERR_clear_error();
    return rc;
}
