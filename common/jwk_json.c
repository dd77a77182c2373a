/*
 * jwk_json.c: public keys from JWK and JWKS text (RFC 7517, 7518): RSA n
 * and e, EC P-256 x and y, OKP Ed25519 x, built into OpenSSL keys and kept
 * in a set through jwk_keep(), which checks them as it does PEM keys.
 * Types, curves, uses and algorithms we do not verify with are skipped
 * (jwk.h).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "jwk_priv.h"
#include "pool.h"

#define RSA_E_MAX 32            /* bytes; OpenSSL wants e < 2^256 anyway */
#define JWKS_TEXT_MAX (1 << 20) /* a JWKS file larger than 1 MiB is refused */

/* Takes a JWK, a member name and an output buffer of cap bytes; decodes the
 * member's unpadded base64url into it and stores the length in *n.
 * Returns 0, or -1 with err if the member is missing, not a string, not
 * strict base64url, or longer than cap bytes. */
static int jwk_b64(struct json_object *jwk, const char *name, unsigned char *out,
                   size_t cap, size_t *n, const char *where, char *err, size_t errlen)
{
    struct json_object *v;

    if (!json_object_object_get_ex(jwk, name, &v)) {
        jwk_errf(err, errlen, "%s: \"%s\" is missing", where, name);
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        jwk_errf(err, errlen, "%s: \"%s\" is not a string", where, name);
        return -1;
    }
    if (jwt_b64url_decode(json_object_get_string(v),
                          (size_t)json_object_get_string_len(v), out, cap,
                          n) != 0) {
        jwk_errf(err, errlen, "%s: \"%s\" is not unpadded base64url of at most "
             "%zu bytes", where, name, cap);
        return -1;
    }
    return 0;
}

/* Takes a key type name ("RSA", "EC") and the parameters; returns the
 * public key OpenSSL builds from them, or NULL with err. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, const char *where,
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
        jwk_errf(err, errlen, "%s: bad %s key (%s)", where, type, jwk_ossl_reason());
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pk;
}

/* Takes an RSA JWK; returns its public key (n, e), or NULL with err. */
static EVP_PKEY *jwk_rsa(struct json_object *jwk, const char *where, char *err, size_t errlen)
{
    unsigned char nb[JWT_SIG_MAX + 1], eb[RSA_E_MAX];
    size_t nlen, elen;
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY *pk = NULL;

    /* One spare byte: RFC 7518 forbids a leading zero octet in n, but a
     * zero-prefixed modulus is the same number, so it is let through. */
    if (jwk_b64(jwk, "n", nb, sizeof nb, &nlen, where, err, errlen) != 0 ||
        jwk_b64(jwk, "e", eb, sizeof eb, &elen, where, err, errlen) != 0)
        goto out;
    if (nlen == 0 || elen == 0) {
        jwk_errf(err, errlen, "%s: empty \"%s\"", where, nlen == 0 ? "n" : "e");
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
static EVP_PKEY *jwk_ec(struct json_object *jwk, const char *where, char *err, size_t errlen)
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
        jwk_errf(err, errlen, "%s: \"%s\" is not 32 bytes", where,
             xlen != 32 ? "x" : "y");
        goto out;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        SN_X9_62_prime256v1, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                         sizeof pt) != 1)
        die_oom();
    pk = pkey_fromdata("EC", bld, where, err, errlen);
out:
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* Takes an Ed25519 JWK; returns its public key (x), or NULL with err. */
static EVP_PKEY *jwk_ed25519(struct json_object *jwk, const char *where, char *err,
                             size_t errlen)
{
    unsigned char x[ED25519_LEN];
    size_t xlen;
    EVP_PKEY *pk;

    if (jwk_b64(jwk, "x", x, sizeof x, &xlen, where, err, errlen) != 0)
        return NULL;
    if (xlen != ED25519_LEN) {
        jwk_errf(err, errlen, "%s: \"x\" is not 32 bytes", where);
        return NULL;
    }
    if ((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x,
                                          xlen)) == NULL)
        jwk_errf(err, errlen, "%s: bad Ed25519 key (%s)", where, jwk_ossl_reason());
    return pk;
}

/* Takes a JWK and a member name; stores the member in *v (NULL when
 * absent).  Returns 0 when absent, 1 for a string, -1 for anything else. */
static int member(struct json_object *jwk, const char *name, struct json_object **v)
{
    *v = NULL;
    if (!json_object_object_get_ex(jwk, name, v))
        return 0;
    return json_object_is_type(*v, json_type_string) ? 1 : -1;
}

/* Takes a JSON value; returns 1 if it is a string equal to want byte for
 * byte (so "RSA\u0000x" is not "RSA"), else 0. */
static int is(struct json_object *v, const char *want)
{
    size_t n = strlen(want);

    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == n &&
           memcmp(json_object_get_string(v), want, n) == 0;
}

/* Takes a set, one JWK, the kid to give it (NULL: its own, if any) and a
 * label for messages.  Adds the key, or skips it as jwk.h says; returns 0,
 * or -1 with err. */
static int jwk_add(struct jwt_keyset *set, struct json_object *jwk, const char *kid,
                   const char *where, char *err, size_t errlen)
{
    struct json_object *kty, *crv, *v;
    const char *algname;
    EVP_PKEY *pk = NULL;
    unsigned alg;
    size_t kidlen = 0;
    int r, rc = -1;

    if (!json_object_is_type(jwk, json_type_object)) {
        jwk_errf(err, errlen, "%s: not a JSON object", where);
        goto out;
    }
    if (member(jwk, "kty", &kty) != 1) {
        jwk_errf(err, errlen, "%s: \"kty\" is missing or not a string", where);
        goto out;
    }
    /* The one algorithm the type allows; other types and curves are not
     * ours to verify with, and are skipped. */
    if (is(kty, "RSA")) {
        alg = JWT_RS256;
        algname = "RS256";
    } else if (is(kty, "EC") || is(kty, "OKP")) {
        if (member(jwk, "crv", &crv) != 1) {
            jwk_errf(err, errlen, "%s: \"crv\" is missing or not a string", where);
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
        jwk_errf(err, errlen, "%s: \"use\" is not a string", where);
        goto out;
    }
    if (r == 1 && !is(v, "sig")) {
        rc = 0;
        goto out;
    }
    if ((r = member(jwk, "alg", &v)) == -1) {
        jwk_errf(err, errlen, "%s: \"alg\" is not a string", where);
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
            jwk_errf(err, errlen, "%s: \"kid\" is not a string of at most %d "
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
    if (pk == NULL || jwk_keep(set, pk, kid, kidlen, where, err, errlen) != 0)
        goto out;
    pk = NULL;
    rc = 0;
out:
    EVP_PKEY_free(pk);
    return rc;
}

/* Takes a set, a JWK (only read) and the kid to give it (NULL: its own).
 * Returns 0 (added or skipped), or -1 with err and the set unchanged. */
int jwt_keyset_add_jwk_json(struct jwt_keyset *set, struct json_object *jwk,
                            const char *kid, char *err, size_t errlen)
{
    size_t n0 = jwt_keyset_count(set);
    int rc = -1;

    ERR_clear_error();
    if (set == NULL) {
        jwk_errf(err, errlen, "JWK: bad arguments");
        goto out;
    }
    if (jwk_kid_ok(kid, err, errlen) != 0)
        goto out;
    rc = jwk_add(set, jwk, kid, "JWK", err, errlen);
out:
    if (rc != 0 && set != NULL)
        jwk_truncate(set, n0);
    ERR_clear_error();
    return rc;
}

/* Takes a set and len bytes of JSON (a JWKS or one JWK); adds its usable
 * keys.  Returns 0, or -1 with err and the set unchanged. */
int jwt_keyset_add_jwks(struct jwt_keyset *set, const char *json, size_t len,
                        char *err, size_t errlen)
{
    struct json_object *root = NULL, *keys;
    struct json_tokener *tok = NULL;
    size_t n0 = jwt_keyset_count(set), i, nkeys;
    char where[32];
    int rc = -1;

    ERR_clear_error();
    if (set == NULL || json == NULL || len > JWKS_TEXT_MAX) {
        jwk_errf(err, errlen, "JWKS: bad arguments or larger than %d bytes",
             JWKS_TEXT_MAX);
        goto out;
    }
    if ((tok = json_tokener_new()) == NULL)
        die_oom();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, json, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        jwk_errf(err, errlen, "JWKS: not valid JSON (at byte %zu)",
             json_tokener_get_parse_end(tok));
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        jwk_errf(err, errlen, "JWKS: not a JSON object");
        goto out;
    }
    if (json_object_object_get_ex(root, "keys", &keys)) {
        if (!json_object_is_type(keys, json_type_array)) {
            jwk_errf(err, errlen, "JWKS: \"keys\" is not an array");
            goto out;
        }
        nkeys = json_object_array_length(keys);
        for (i = 0; i < nkeys; i++) {
            snprintf(where, sizeof where, "JWKS keys[%zu]", i);
            if (jwk_add(set, json_object_array_get_idx(keys, i), NULL, where,
                        err, errlen) != 0)
                goto out;
        }
    } else if (json_object_object_get_ex(root, "kty", NULL)) {
        if (jwk_add(set, root, NULL, "JWK", err, errlen) != 0)
            goto out;
    } else {
        jwk_errf(err, errlen, "JWKS: neither {\"keys\": [...]} nor a JWK");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && set != NULL)
        jwk_truncate(set, n0);
    json_object_put(root);
    json_tokener_free(tok);
    ERR_clear_error();
    return rc;
}

