/*
 * jwt: JSON Web Tokens, verified strictly, and HMAC ones minted for
 * /api/auth.
 *
 * A token is read in a fixed order so that nothing an attacker wrote is
 * trusted before the signature says so: length cap, three base64url
 * segments, a JSON-object header whose "alg" is in the allow-list, the
 * signature (HMAC with the secret, compared in constant time, or a public
 * key of the key set, see jwk.c), and only then the payload's claims.
 * Expiry is noted but reported last, so JWT_EXPIRED means "valid except for
 * exp" and every other failure is JWT_INVALID.
 *
 * base64url here is the unpadded alphabet of RFC 7515: '=' and any other
 * character outside A-Z a-z 0-9 - _ are refused, as are lengths of 4n+1
 * and non-zero unused bits in the last character (so one byte string has
 * exactly one encoding).
 */
#include "jwt.h"
#include "jwk.h"
#include "utf8.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define JWT_TOKEN_MAX 8192      /* longer tokens are refused unread */
#define JWT_PART_MAX (JWT_TOKEN_MAX / 4 * 3)

/* ----------------------------------------------------------- algorithms */

static const struct {
    const char *name;
    enum jwt_alg alg;
} algs[] = {
    { "HS256", JWT_HS256 },
    { "HS384", JWT_HS384 },
    { "HS512", JWT_HS512 },
    { "RS256", JWT_RS256 },
    { "ES256", JWT_ES256 },
    { "EdDSA", JWT_EDDSA },
};

#define NALGS (sizeof algs / sizeof algs[0])

/* Takes a name and its length; returns its enum jwt_alg, or 0 if unknown. */
static unsigned alg_find(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < NALGS; i++)
        if (strlen(algs[i].name) == n && memcmp(algs[i].name, s, n) == 0)
            return algs[i].alg;
    return 0;
}

/* Takes an enum jwt_alg; returns its name, or NULL if it is not exactly one
 * supported algorithm. */
static const char *alg_name(unsigned alg)
{
    size_t i;

    for (i = 0; i < NALGS; i++)
        if (algs[i].alg == alg)
            return algs[i].name;
    return NULL;
}

/* Takes an enum jwt_alg; returns OpenSSL's digest for its HMAC, or NULL if
 * it is not an HS* algorithm. */
static const EVP_MD *hmac_md(unsigned alg)
{
    switch (alg) {
    case JWT_HS256:
        return EVP_sha256();
    case JWT_HS384:
        return EVP_sha384();
    case JWT_HS512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* Takes a comma- and/or space-separated list of names (case-sensitive);
 * stores their bitmask in *mask.  Returns 0, or -1 for an empty list or an
 * unknown name, with *bad (when bad is not NULL) pointing at the offending
 * name inside list (at list itself when the list is empty). */
int jwt_algs_parse(const char *list, unsigned *mask, const char **bad)
{
    const char *s = list, *sep = ", \t";
    unsigned m = 0, a;
    size_t n;
    int rc = -1;

    if (bad != NULL)
        *bad = list;
    if (list == NULL || mask == NULL)
        goto out;
    for (;;) {
        s += strspn(s, sep);
        if (*s == '\0')
            break;
        n = strcspn(s, sep);
        if ((a = alg_find(s, n)) == 0) {
            if (bad != NULL)
                *bad = s;
            goto out;
        }
        m |= a;
        s += n;
    }
    if (m == 0)
        goto out;
    *mask = m;
    rc = 0;
out:
    return rc;
}

/* ------------------------------------------------------------ base64url */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Takes a character; returns its 6-bit value, or -1 if outside the
 * base64url alphabet. */
static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Takes n characters of unpadded base64url at s and an output buffer of
 * size cap; stores the decoded length in *outlen.  Returns 0, or -1 on a
 * character outside the alphabet, a length of 4k+1, non-zero unused bits,
 * or output that would not fit. */
int jwt_b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap,
                      size_t *outlen)
{
    uint32_t acc = 0;
    size_t i, o = 0;
    int bits = 0, v, rc = -1;

    if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
        goto out;
    for (i = 0; i < n; i++) {
        if ((v = b64_val((unsigned char)s[i])) < 0)
            goto out;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)               /* leftover bits must be zero */
        goto out;
    *outlen = o;
    rc = 0;
out:
    return rc;
}

/* Takes n bytes at in; writes their unpadded base64url encoding and a NUL
 * at out, which must hold (n + 2) / 3 * 4 + 1 bytes.  Returns the length. */
size_t jwt_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i, o = 0;
    uint32_t v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        v = (uint32_t)in[i] << 16;
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
    } else if (n - i == 2) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

/* --------------------------------------------------------- JSON helpers */

/* Takes n bytes of JSON text; returns the JSON object they hold (caller
 * puts it), or NULL if they are not exactly one valid JSON object. */
static struct json_object *parse_object(const unsigned char *s, size_t n)
{
    struct json_tokener *tok;
    struct json_object *o = NULL;

    if (n == 0 || n > INT_MAX || (tok = json_tokener_new()) == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, (const char *)s, (int)n);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != n ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* Takes a JSON value and a C string; returns 1 if the value is a JSON string
 * equal to it byte for byte (an embedded NUL never matches), else 0. */
static int str_eq(struct json_object *v, const char *s)
{
    size_t n = strlen(s);

    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == n &&
           memcmp(json_object_get_string(v), s, n) == 0;
}

/* Takes a JSON value; returns 1 if it is a string of at most max bytes of
 * valid UTF-8 (no overlong forms, no surrogates) with no NUL byte, else 0. */
static int str_ok(struct json_object *v, size_t max)
{
    const char *s;
    size_t n;

    if (!json_object_is_type(v, json_type_string))
        return 0;
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    return n <= max && memchr(s, '\0', n) == NULL && utf8_valid(s, n);
}

/* Takes a JSON value; stores it in *d and returns 0 if it is a finite
 * number (integer or double; booleans and strings are not), else -1. */
static int num_get(struct json_object *v, double *d)
{
    if (json_object_is_type(v, json_type_int)) {
        *d = (double)json_object_get_int64(v);
        return 0;
    }
    if (json_object_is_type(v, json_type_double)) {
        *d = json_object_get_double(v);
        return isfinite(*d) ? 0 : -1;
    }
    return -1;
}

/* --------------------------------------------------------------- claims */

/* Takes the policy and the payload; copies the user id into out->user.
 * Returns 0, or -1 if the user claim is missing, not a string, empty,
 * longer than JWT_USER_MAX, holds a NUL, or the fallbacks disagree. */
static int claim_user(const struct jwt_policy *p, struct json_object *pl,
                      struct jwt_identity *out)
{
    static const char *const names[] = { "sub", "user_id", "userId", "id" };
    struct json_object *v, *u = NULL;
    size_t i, n = 0;
    int rc = -1;

    if (p->user_claim != NULL) {
        if (!json_object_object_get_ex(pl, p->user_claim, &u))
            goto out;
    } else {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (!json_object_object_get_ex(pl, names[i], &v))
                continue;
            if (!json_object_is_type(v, json_type_string))
                goto out;
            if (u != NULL && !json_object_equal(u, v))
                goto out;
            u = v;
        }
    }
    if (!str_ok(u, JWT_USER_MAX) ||
        (n = (size_t)json_object_get_string_len(u)) == 0)
        goto out;
    memcpy(out->user, json_object_get_string(u), n);
    out->user[n] = '\0';
    rc = 0;
out:
    return rc;
}

/* Takes the audience and the "aud" claim (may be NULL); returns 1 if the
 * claim is that string or an array containing it, else 0. */
static int claim_aud(const char *aud, struct json_object *v)
{
    size_t i, n;

    if (str_eq(v, aud))
        return 1;
    if (!json_object_is_type(v, json_type_array))
        return 0;
    n = json_object_array_length(v);
    for (i = 0; i < n; i++)
        if (str_eq(json_object_array_get_idx(v, i), aud))
            return 1;
    return 0;
}

/* Takes the policy, the verified payload and now; fills out.  Returns
 * JWT_OK, JWT_EXPIRED when only exp failed, or JWT_INVALID. */
static enum jwt_status claims_check(const struct jwt_policy *p,
                                    struct json_object *pl, time_t now,
                                    struct jwt_identity *out)
{
    const char *role = p->role_claim != NULL ? p->role_claim : "role";
    double lw = p->leeway > 0 ? (double)p->leeway : 0, exp, t;
    struct json_object *v;
    enum jwt_status rc = JWT_INVALID;
    size_t n;
    int expired;

    if (!json_object_object_get_ex(pl, "exp", &v) || num_get(v, &exp) != 0)
        goto out;
    expired = exp <= (double)now - lw;
    if (json_object_object_get_ex(pl, "nbf", &v) &&
        (num_get(v, &t) != 0 || t > (double)now + lw))
        goto out;
    if (json_object_object_get_ex(pl, "iat", &v) &&
        (num_get(v, &t) != 0 || t > (double)now + lw))
        goto out;
    if (p->issuer != NULL && (!json_object_object_get_ex(pl, "iss", &v) ||
                              !str_eq(v, p->issuer)))
        goto out;
    if (p->audience != NULL && (!json_object_object_get_ex(pl, "aud", &v) ||
                                !claim_aud(p->audience, v)))
        goto out;
    if (claim_user(p, pl, out) != 0)
        goto out;
    if (json_object_object_get_ex(pl, "jti", &v)) {
        if (!str_ok(v, JWT_JTI_MAX))
            goto out;
        n = (size_t)json_object_get_string_len(v);
        memcpy(out->jti, json_object_get_string(v), n);
        out->jti[n] = '\0';
    }
    if (json_object_object_get_ex(pl, "sid", &v)) {
        if (!str_ok(v, JWT_JTI_MAX))
            goto out;
        n = (size_t)json_object_get_string_len(v);
        memcpy(out->sid, json_object_get_string(v), n);
        out->sid[n] = '\0';
    }
    out->admin = json_object_object_get_ex(pl, role, &v) &&
                 str_eq(v, "admin");
    /* Rounded up (without libm), so a revocation kept until exp outlives
     * the token. */
    if (exp >= (double)LONG_MAX) {
        out->exp = LONG_MAX;
    } else if (exp <= (double)LONG_MIN) {
        out->exp = LONG_MIN;
    } else {
        out->exp = (long)exp;
        out->exp += (double)out->exp < exp;
    }
    rc = expired ? JWT_EXPIRED : JWT_OK;
out:
    return rc;
}

/* ------------------------------------------------------ verify and mint */

/* Takes the policy, an HS* algorithm, the signed bytes and the decoded
 * signature; returns 0 if the signature is the HMAC of msg under the
 * policy's secret (compared in constant time), else -1, also when no
 * secret is configured. */
static int verify_hmac(const struct jwt_policy *p, unsigned alg,
                       const unsigned char *msg, size_t msglen,
                       const unsigned char *sig, size_t siglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    const EVP_MD *md = hmac_md(alg);
    unsigned maclen = 0;
    int rc = -1;

    if (md == NULL || p->secret == NULL || p->secret_len == 0 ||
        p->secret_len > INT_MAX)
        goto out;
    if (HMAC(md, p->secret, (int)p->secret_len, msg, msglen, mac,
             &maclen) == NULL)
        goto out;
    if (siglen == maclen && CRYPTO_memcmp(sig, mac, maclen) == 0)
        rc = 0;
out:
    OPENSSL_cleanse(mac, sizeof mac);
    return rc;
}

/* Takes the policy, a token, the current time and an identity to fill.
 * Returns JWT_OK with *out filled; JWT_EXPIRED with *out filled when the
 * signature and every claim but exp are good; JWT_UNKNOWN_KID when a
 * key-set algorithm's kid names no key of that type; JWT_INVALID
 * otherwise.  *out is zeroed unless the answer is JWT_OK or JWT_EXPIRED.
 * Allocates nothing that outlives the call. */
enum jwt_status jwt_verify(const struct jwt_policy *p, const char *token,
                           time_t now, struct jwt_identity *out)
{
    unsigned char buf[JWT_PART_MAX], sig[JWT_SIG_MAX];
    struct json_object *hdr = NULL, *pl = NULL, *v, *kid = NULL;
    const unsigned char *msg = (const unsigned char *)token;
    const char *d1, *d2, *s;
    size_t len, n, siglen, msglen;
    unsigned alg;
    enum jwt_status rc = JWT_INVALID, st;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (p == NULL || token == NULL || out == NULL)
        goto out;
    if ((len = strnlen(token, JWT_TOKEN_MAX + 1)) > JWT_TOKEN_MAX)
        goto out;
    if ((d1 = memchr(token, '.', len)) == NULL ||
        (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) == NULL ||
        memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        goto out;
    msglen = (size_t)(d2 - token);

    /* Header: the algorithm is ours to allow, never the token's to pick. */
    if (jwt_b64url_decode(token, (size_t)(d1 - token), buf, sizeof buf, &n) != 0 ||
        (hdr = parse_object(buf, n)) == NULL)
        goto out;
    if (!json_object_object_get_ex(hdr, "alg", &v) ||
        !json_object_is_type(v, json_type_string))
        goto out;
    s = json_object_get_string(v);
    alg = alg_find(s, (size_t)json_object_get_string_len(v));
    if (alg == 0 || (p->algs & alg) == 0)
        goto out;
    if (json_object_object_get_ex(hdr, "typ", &v) &&
        !json_object_is_type(v, json_type_string))
        goto out;
    if (json_object_object_get_ex(hdr, "kid", &kid) &&
        !json_object_is_type(kid, json_type_string))
        goto out;
    if (json_object_object_get_ex(hdr, "crit", NULL))
        goto out;               /* RFC 7515 4.1.11: we understand none */

    /* Signature over "header.payload", before any claim is read. */
    if (jwt_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), sig,
                          sizeof sig, &siglen) != 0)
        goto out;
    /*
     * Algorithm confusion (RFC 8725 2.1): the token's alg picks the kind
     * of key, and each kind has exactly one source.  HS* tokens are checked
     * with the secret and nothing else, so an HS256 token whose "secret" is
     * our RSA public key's PEM text (which anyone can read) gets nowhere:
     * no public key is ever an HMAC key here.  RS256, ES256 and EdDSA
     * tokens are checked only with keys of the set whose type belongs to
     * that alg (jwk.c), never with the secret.  A kid is only a hint among
     * keys of the right type, never a way to another kind of key.
     */
    if ((alg & JWT_ALGS_HMAC) != 0) {
        if (verify_hmac(p, alg, msg, msglen, sig, siglen) != 0)
            goto out;
    } else if ((alg & JWT_ALGS_KEYS) != 0) {
        st = jwt_keyset_verify(p->keys, (enum jwt_alg)alg,
                               kid != NULL ? json_object_get_string(kid) : NULL,
                               kid != NULL ?
                               (size_t)json_object_get_string_len(kid) : 0,
                               msg, msglen, sig, siglen);
        if (st != JWT_OK) {
            rc = st == JWT_UNKNOWN_KID ? JWT_UNKNOWN_KID : JWT_INVALID;
            goto out;
        }
    } else {
        goto out;
    }

    if (jwt_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf, sizeof buf, &n) != 0 ||
        (pl = parse_object(buf, n)) == NULL)
        goto out;
    rc = claims_check(p, pl, now, out);
out:
    if (rc != JWT_OK && rc != JWT_EXPIRED && out != NULL)
        memset(out, 0, sizeof *out);
    json_object_put(hdr);
    json_object_put(pl);
    return rc;
}

/* Takes an algorithm (exactly one of enum jwt_alg), a secret of len bytes
 * and the claims (a JSON object, only read).  Returns a malloc'd token the
 * caller frees, or NULL on bad arguments or out of memory. */
char *jwt_mint(enum jwt_alg alg, const unsigned char *secret, size_t len,
               struct json_object *claims)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    char hdr[64], *tok = NULL, *r = NULL;
    const char *name, *pl;
    const EVP_MD *md;
    unsigned maclen = 0;
    size_t hlen, plen, n, cap;

    if ((name = alg_name(alg)) == NULL || (md = hmac_md(alg)) == NULL ||
        secret == NULL || len == 0 || len > INT_MAX ||
        !json_object_is_type(claims, json_type_object))
        goto out;
    if ((pl = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN)) == NULL)
        goto out;
    plen = strlen(pl);
    hlen = (size_t)snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", name);
    if (plen > SIZE_MAX / 2)
        goto out;
    cap = (hlen + 2) / 3 * 4 + 1 + (plen + 2) / 3 * 4 + 1 +
          (EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1;
    if ((tok = malloc(cap)) == NULL)
        goto out;
    n = jwt_b64url_encode((const unsigned char *)hdr, hlen, tok);
    tok[n++] = '.';
    n += jwt_b64url_encode((const unsigned char *)pl, plen, tok + n);
    if (HMAC(md, secret, (int)len, (const unsigned char *)tok, n, mac,
             &maclen) == NULL)
        goto out;
    tok[n++] = '.';
    jwt_b64url_encode(mac, maclen, tok + n);
    r = tok;
    tok = NULL;
out:
    OPENSSL_cleanse(mac, sizeof mac);
    free(tok);
    return r;
}
