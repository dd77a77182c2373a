/*
 * jwk: public keys for RS256, ES256 and EdDSA, loaded from PEM or JWK and
 * used through OpenSSL's EVP interface.
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
#include "jwk.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pool.h"

#define RSA_MIN_BITS 2048       /* RFC 7518 3.3: 2048 or larger */
#define RSA_MAX_BITS (JWT_SIG_MAX * 8)
#define RSA_E_MAX 32            /* bytes; OpenSSL wants e < 2^256 anyway */
#define ES256_RAW 64            /* r || s, 32 bytes each (RFC 7518 3.4) */
#define ED25519_LEN 32          /* public key and half the signature */
#define JWKS_TEXT_MAX (1 << 20) /* a JWKS file larger than 1 MiB is refused */

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

/* Takes err (may be NULL), its size and a printf format; writes the
 * message into err. */
static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Returns the reason of OpenSSL's latest error, or "unknown error". */
static const char *
ossl_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_peek_last_error());

    return r != NULL ? r : "unknown error";
}

/* ---- the set ------------------------------------------------------------ */

/* Returns a new empty set (caller frees); out of memory is fatal. */
struct jwt_keyset *
jwt_keyset_new(void)
{
    struct jwt_keyset *set = calloc(1, sizeof(*set));

    if (set == NULL)
        die_oom();
    return set;
}

/* Takes a set and a count; frees the keys past the first n. */
static void
set_truncate(struct jwt_keyset *set, size_t n)
{
    while (set->n > n) {
        set->n--;
        EVP_PKEY_free(set->v[set->n].pk);
        free(set->v[set->n].kid);
    }
}

/* Frees set and drops its references to its keys; accepts NULL. */
void
jwt_keyset_free(struct jwt_keyset *set)
{
    if (set == NULL)
        return;
    set_truncate(set, 0);
    free(set->v);
    free(set);
}

/* Takes a set, a key (ownership passes to the set), its algorithm and its
 * kid (kidlen bytes, copied; NULL for none). */
static void
set_push(struct jwt_keyset *set, EVP_PKEY *pk, unsigned alg, const char *kid,
         size_t kidlen)
{
    struct key *k;
    size_t cap;

    if (set->n == set->cap) {
        cap = set->cap ? set->cap * 2 : 4;
        if ((k = reallocarray(set->v, cap, sizeof(*k))) == NULL)
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
struct jwt_keyset *
jwt_keyset_dup(const struct jwt_keyset *set)
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
size_t
jwt_keyset_count(const struct jwt_keyset *set)
{
    return set != NULL ? set->n : 0;
}

/* Returns the enum jwt_alg bits of set's keys (0 for NULL or empty). */
unsigned
jwt_keyset_algs(const struct jwt_keyset *set)
{
    unsigned m = 0;
    size_t i;

    for (i = 0; set != NULL && i < set->n; i++)
        m |= set->v[i].alg;
    return m;
}

/* ---- accepting a key ---------------------------------------------------- */

/* Takes a kid argument (may be NULL); returns 0 if it is NULL or at most
 * JWT_KID_MAX bytes, else -1 with err. */
static int
kid_arg_ok(const char *kid, char *err, size_t errlen)
{
    if (kid != NULL && strlen(kid) > JWT_KID_MAX) {
        errf(err, errlen, "kid is longer than %d bytes", JWT_KID_MAX);
        return -1;
    }
    return 0;
}

/* Takes a loaded public key; stores the algorithm its type verifies in
 * *alg.  Returns 0, or -1 with err (prefixed by where) for another type, an
 * RSA modulus outside RSA_MIN_BITS..RSA_MAX_BITS, an EC curve other than
 * P-256 (or explicit curve parameters), or a key OpenSSL's public check
 * refuses. */
static int
key_accept(EVP_PKEY *pk, unsigned *alg, const char *where, char *err,
           size_t errlen)
{
    EVP_PKEY_CTX *ctx = NULL;
    char group[64];
    int bits, rc = -1;

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        bits = EVP_PKEY_get_bits(pk);
        if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
            errf(err, errlen, "%s: RSA key of %d bits (%d to %d allowed)",
                 where, bits, RSA_MIN_BITS, RSA_MAX_BITS);
            goto out;
        }
        *alg = JWT_RS256;
        break;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) != 1 ||
            strcmp(group, SN_X9_62_prime256v1) != 0) {
            errf(err, errlen, "%s: EC key not on P-256", where);
            goto out;
        }
        *alg = JWT_ES256;
        break;
    case EVP_PKEY_ED25519:
        *alg = JWT_EDDSA;
        break;
    default:
        errf(err, errlen, "%s: unsupported key type (RSA, EC P-256 or "
             "Ed25519)", where);
        goto out;
    }
    if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
        die_oom();
    if (EVP_PKEY_public_check(ctx) != 1) {
        errf(err, errlen, "%s: invalid public key (%s)", where, ossl_reason());
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* ---- PEM ---------------------------------------------------------------- */

/* Takes a set, len bytes of PEM text and a kid for its keys (may be NULL);
 * adds one key per PUBLIC KEY block.  Returns 0, or -1 with err and the set
 * unchanged if any block is not an acceptable public key, or none is
 * there. */
int
jwt_keyset_add_pem(struct jwt_keyset *set, const char *pem, size_t len,
                   const char *kid, char *err, size_t errlen)
{
    char *name = NULL, *hdr = NULL, where[32];
    unsigned char *data = NULL;
    const unsigned char *p;
    EVP_PKEY *pk = NULL;
    BIO *b = NULL;
    long dlen;
    unsigned alg;
    unsigned long e;
    size_t n0 = set != NULL ? set->n : 0, i;
    int rc = -1;

    ERR_clear_error();
    if (set == NULL || pem == NULL || len > INT_MAX) {
        errf(err, errlen, "PEM: bad arguments");
        goto out;
    }
    if (kid_arg_ok(kid, err, errlen) != 0)
        goto out;
    if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
        die_oom();
    for (i = 1;; i++) {
        snprintf(where, sizeof(where), "PEM block %zu", i);
        if (PEM_read_bio(b, &name, &hdr, &data, &dlen) != 1) {
            e = ERR_peek_last_error();
            if (i > 1 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break;          /* the end of the text */
            if (i == 1 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                errf(err, errlen, "no \"-----BEGIN PUBLIC KEY-----\" block");
            else
                errf(err, errlen, "%s: %s", where, ossl_reason());
            goto out;
        }
        /* Only SubjectPublicKeyInfo: a private key here is a mistake the
         * operator should hear about, and encrypted blocks need no
         * passphrase prompt. */
        if (strcmp(name, PEM_STRING_PUBLIC) != 0 || *hdr != '\0') {
            errf(err, errlen, "%s: \"%.40s\" is not a plain PUBLIC KEY", where,
                 name);
            goto out;
        }
        p = data;
        if ((pk = d2i_PUBKEY(NULL, &p, dlen)) == NULL || p != data + dlen) {
            errf(err, errlen, "%s: bad public key (%s)", where, ossl_reason());
            goto out;
        }
        if (key_accept(pk, &alg, where, err, errlen) != 0)
            goto out;
        set_push(set, pk, alg, kid, kid != NULL ? strlen(kid) : 0);
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
        set_truncate(set, n0);
    EVP_PKEY_free(pk);
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(data);
    BIO_free(b);
    ERR_clear_error();
    return rc;
}

/* ---- JWK ---------------------------------------------------------------- */

/* Takes a JWK, a member name and an output buffer of cap bytes; decodes the
 * member's unpadded base64url into it and stores the length in *n.
 * Returns 0, or -1 with err if the member is missing, not a string, not
 * strict base64url, or longer than cap bytes. */
static int
jwk_b64(struct json_object *jwk, const char *name, unsigned char *out,
        size_t cap, size_t *n, const char *where, char *err, size_t errlen)
{
    struct json_object *v;

    if (!json_object_object_get_ex(jwk, name, &v)) {
        errf(err, errlen, "%s: \"%s\" is missing", where, name);
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        errf(err, errlen, "%s: \"%s\" is not a string", where, name);
        return -1;
    }
    if (jwt_b64url_decode(json_object_get_string(v),
                          (size_t)json_object_get_string_len(v), out, cap,
                          n) != 0) {
        errf(err, errlen, "%s: \"%s\" is not unpadded base64url of at most "
             "%zu bytes", where, name, cap);
        return -1;
    }
    return 0;
}

/* Takes a key type name ("RSA", "EC") and the parameters; returns the
 * public key OpenSSL builds from them, or NULL with err. */
static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, const char *where,
              char *err, size_t errlen)
{
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pk = NULL;

    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
        die_oom();
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        errf(err, errlen, "%s: bad %s key (%s)", where, type, ossl_reason());
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

/* Takes an RSA JWK; returns its public key (n, e), or NULL with err. */
static EVP_PKEY *
jwk_rsa(struct json_object *jwk, const char *where, char *err, size_t errlen)
{
    unsigned char nb[JWT_SIG_MAX + 1], eb[RSA_E_MAX];
    size_t nlen, elen;
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY *pk = NULL;

    /* One spare byte: RFC 7518 forbids a leading zero octet in n, but a
     * zero-prefixed modulus is the same number, so it is let through. */
    if (jwk_b64(jwk, "n", nb, sizeof(nb), &nlen, where, err, errlen) != 0 ||
        jwk_b64(jwk, "e", eb, sizeof(eb), &elen, where, err, errlen) != 0)
        goto out;
    if (nlen == 0 || elen == 0) {
        errf(err, errlen, "%s: empty \"%s\"", where, nlen == 0 ? "n" : "e");
        goto out;
    }
    if ((n = BN_bin2bn(nb, (int)nlen, NULL)) == NULL ||
        (e = BN_bin2bn(eb, (int)elen, NULL)) == NULL ||
        (bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        die_oom();
    pk = pkey_fromdata("RSA", bld, where, err, errlen);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pk;
}

/* Takes a P-256 JWK; returns its public key (x, y), or NULL with err. */
static EVP_PKEY *
jwk_ec(struct json_object *jwk, const char *where, char *err, size_t errlen)
{
    unsigned char pt[1 + 2 * 32];   /* uncompressed point: 04 || x || y */
    size_t xlen, ylen;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pk = NULL;

    pt[0] = POINT_CONVERSION_UNCOMPRESSED;
    if (jwk_b64(jwk, "x", pt + 1, 32, &xlen, where, err, errlen) != 0 ||
        jwk_b64(jwk, "y", pt + 33, 32, &ylen, where, err, errlen) != 0)
        goto out;
    if (xlen != 32 || ylen != 32) {
        errf(err, errlen, "%s: \"%s\" is not 32 bytes", where,
             xlen != 32 ? "x" : "y");
        goto out;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        SN_X9_62_prime256v1, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                         sizeof(pt)) != 1)
        die_oom();
    pk = pkey_fromdata("EC", bld, where, err, errlen);
out:
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* Takes an Ed25519 JWK; returns its public key (x), or NULL with err. */
static EVP_PKEY *
jwk_ed25519(struct json_object *jwk, const char *where, char *err,
            size_t errlen)
{
    unsigned char x[ED25519_LEN];
    size_t xlen;
    EVP_PKEY *pk;

    if (jwk_b64(jwk, "x", x, sizeof(x), &xlen, where, err, errlen) != 0)
        return NULL;
    if (xlen != ED25519_LEN) {
        errf(err, errlen, "%s: \"x\" is not 32 bytes", where);
        return NULL;
    }
    if ((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x,
                                          xlen)) == NULL)
        errf(err, errlen, "%s: bad Ed25519 key (%s)", where, ossl_reason());
    return pk;
}

/* Takes a JWK and a member name; stores the member in *v (NULL when
 * absent).  Returns 0 when absent, 1 for a string, -1 for anything else. */
static int
member(struct json_object *jwk, const char *name, struct json_object **v)
{
    *v = NULL;
    if (!json_object_object_get_ex(jwk, name, v))
        return 0;
    return json_object_is_type(*v, json_type_string) ? 1 : -1;
}

/* Takes a JSON value; returns 1 if it is a string equal to want byte for
 * byte (so "RSA\u0000x" is not "RSA"), else 0. */
static int
is(struct json_object *v, const char *want)
{
    size_t n = strlen(want);

    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == n &&
           memcmp(json_object_get_string(v), want, n) == 0;
}

/* Takes a set, one JWK, the kid to give it (NULL: its own, if any) and a
 * label for messages.  Adds the key, or skips it as jwk.h says; returns 0,
 * or -1 with err. */
static int
jwk_add(struct jwt_keyset *set, struct json_object *jwk, const char *kid,
        const char *where, char *err, size_t errlen)
{
    struct json_object *kty, *crv, *v;
    const char *algname;
    EVP_PKEY *pk = NULL;
    unsigned alg, got;
    size_t kidlen = 0;
    int r, rc = -1;

    if (!json_object_is_type(jwk, json_type_object)) {
        errf(err, errlen, "%s: not a JSON object", where);
        goto out;
    }
    if (member(jwk, "kty", &kty) != 1) {
        errf(err, errlen, "%s: \"kty\" is missing or not a string", where);
        goto out;
    }
    /* The one algorithm the type allows; other types and curves are not
     * ours to verify with, and are skipped. */
    if (is(kty, "RSA")) {
        alg = JWT_RS256;
        algname = "RS256";
    } else if (is(kty, "EC") || is(kty, "OKP")) {
        if (member(jwk, "crv", &crv) != 1) {
            errf(err, errlen, "%s: \"crv\" is missing or not a string", where);
            goto out;
        }
        if (is(kty, "EC") && is(crv, "P-256")) {
            alg = JWT_ES256;
            algname = "ES256";
        } else if (is(kty, "OKP") && is(crv, "Ed25519")) {
            alg = JWT_EDDSA;
            algname = "EdDSA";
        } else {
            rc = 0;             /* P-384, X25519, Ed448, ... */
            goto out;
        }
    } else {
        rc = 0;                 /* "oct" and anything else */
        goto out;
    }
    /* A key meant for encryption, or for another algorithm (RS512, PS256),
     * is not used for ours. */
    if ((r = member(jwk, "use", &v)) == -1) {
        errf(err, errlen, "%s: \"use\" is not a string", where);
        goto out;
    }
    if (r == 1 && !is(v, "sig")) {
        rc = 0;
        goto out;
    }
    if ((r = member(jwk, "alg", &v)) == -1) {
        errf(err, errlen, "%s: \"alg\" is not a string", where);
        goto out;
    }
    if (r == 1 && !is(v, algname)) {
        rc = 0;
        goto out;
    }
    if (kid != NULL) {
        kidlen = strlen(kid);
    } else if ((r = member(jwk, "kid", &v)) != 0) {
        if (r == -1 ||
            (kidlen = (size_t)json_object_get_string_len(v)) > JWT_KID_MAX ||
            memchr(json_object_get_string(v), '\0', kidlen) != NULL) {
            errf(err, errlen, "%s: \"kid\" is not a string of at most %d "
                 "bytes", where, JWT_KID_MAX);
            goto out;
        }
        kid = json_object_get_string(v);
    }

    if (alg == JWT_RS256)
        pk = jwk_rsa(jwk, where, err, errlen);
    else if (alg == JWT_ES256)
        pk = jwk_ec(jwk, where, err, errlen);
    else
        pk = jwk_ed25519(jwk, where, err, errlen);
    if (pk == NULL || key_accept(pk, &got, where, err, errlen) != 0)
        goto out;
    set_push(set, pk, alg, kid, kidlen);
    pk = NULL;
    rc = 0;
out:
    EVP_PKEY_free(pk);
    return rc;
}

/* Takes a set, a JWK (only read) and the kid to give it (NULL: its own).
 * Returns 0 (added or skipped), or -1 with err and the set unchanged. */
int
jwt_keyset_add_jwk_json(struct jwt_keyset *set, struct json_object *jwk,
                        const char *kid, char *err, size_t errlen)
{
    size_t n0 = set != NULL ? set->n : 0;
    int rc = -1;

    ERR_clear_error();
    if (set == NULL) {
        errf(err, errlen, "JWK: bad arguments");
        goto out;
    }
    if (kid_arg_ok(kid, err, errlen) != 0)
        goto out;
    rc = jwk_add(set, jwk, kid, "JWK", err, errlen);
out:
    if (rc != 0 && set != NULL)
        set_truncate(set, n0);
    ERR_clear_error();
    return rc;
}

/* Takes a set and len bytes of JSON (a JWKS or one JWK); adds its usable
 * keys.  Returns 0, or -1 with err and the set unchanged. */
int
jwt_keyset_add_jwks(struct jwt_keyset *set, const char *json, size_t len,
                    char *err, size_t errlen)
{
    struct json_object *root = NULL, *keys;
    struct json_tokener *tok = NULL;
    size_t n0 = set != NULL ? set->n : 0, i, nkeys;
    char where[32];
    int rc = -1;

    ERR_clear_error();
    if (set == NULL || json == NULL || len > JWKS_TEXT_MAX) {
        errf(err, errlen, "JWKS: bad arguments or larger than %d bytes",
             JWKS_TEXT_MAX);
        goto out;
    }
    if ((tok = json_tokener_new()) == NULL)
        die_oom();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, json, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        errf(err, errlen, "JWKS: not valid JSON (at byte %zu)",
             json_tokener_get_parse_end(tok));
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        errf(err, errlen, "JWKS: not a JSON object");
        goto out;
    }
    if (json_object_object_get_ex(root, "keys", &keys)) {
        if (!json_object_is_type(keys, json_type_array)) {
            errf(err, errlen, "JWKS: \"keys\" is not an array");
            goto out;
        }
        nkeys = json_object_array_length(keys);
        for (i = 0; i < nkeys; i++) {
            snprintf(where, sizeof(where), "JWKS keys[%zu]", i);
            if (jwk_add(set, json_object_array_get_idx(keys, i), NULL, where,
                        err, errlen) != 0)
                goto out;
        }
    } else if (json_object_object_get_ex(root, "kty", NULL)) {
        if (jwk_add(set, root, NULL, "JWK", err, errlen) != 0)
            goto out;
    } else {
        errf(err, errlen, "JWKS: neither {\"keys\": [...]} nor a JWK");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && set != NULL)
        set_truncate(set, n0);
    json_object_put(root);
    json_tokener_free(tok);
    ERR_clear_error();
    return rc;
}

/* ---- verification ------------------------------------------------------- */

/* Takes a JWS ES256 signature (r || s, 32 bytes each) and a buffer of cap
 * bytes; writes the DER ECDSA-Sig-Value OpenSSL verifies and stores its
 * length in *len.  Returns 0, or -1 if it does not fit. */
static int
es256_der(const unsigned char *raw, unsigned char *der, size_t cap,
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
static int
pkey_verify(EVP_PKEY *pk, unsigned alg, const unsigned char *msg,
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
enum jwt_status
jwt_keyset_verify(const struct jwt_keyset *set, enum jwt_alg alg,
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
        (siglen != ES256_RAW || es256_der(sig, der, sizeof(der), &slen) != 0))
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
