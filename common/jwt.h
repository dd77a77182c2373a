/*
 * jwt: verifies JSON Web Tokens (HS256/384/512 with a secret; RS256, ES256
 * and EdDSA with a struct jwt_keyset, see jwk.h) and mints HMAC ones.
 *
 * libjwt 1.10 lets a token pick its own verification method and checks no
 * claims, so this module does the whole job itself with OpenSSL and json-c:
 * the header's "alg" must be in the policy's allow-list ("none" never is);
 * an HS* token is checked against the secret only (constant-time compare)
 * and an RS256/ES256/EdDSA token against keys of the matching type only, so
 * a public key can never serve as an HMAC secret; then the claims are
 * checked exactly as API.md's Authentication table says (exp required and
 * later than now - leeway; nbf and iat, when present, not later than now +
 * leeway; iss equal and aud equal/containing when configured; the user id
 * from user_claim, or from sub, else user_id, userId, id, which must agree
 * when several are present: non-empty, at most 255 bytes, a JSON string).
 *
 * The policy and its key set are owned by the caller and only read.
 * jwt_verify() fills a caller-owned struct jwt_identity and allocates
 * nothing that outlives the call.  jwt_mint() returns a malloc'd string the
 * caller frees.
 */
#ifndef TODO_JWT_H
#define TODO_JWT_H

#include <stddef.h>
#include <time.h>

struct json_object;
struct jwt_keyset;

enum jwt_alg {
    JWT_HS256 = 1 << 0,
    JWT_HS384 = 1 << 1,
    JWT_HS512 = 1 << 2,
    JWT_RS256 = 1 << 3,         /* "RS256": RSA keys of the key set */
    JWT_ES256 = 1 << 4,         /* "ES256": EC P-256 keys */
    JWT_EDDSA = 1 << 5,         /* "EdDSA": Ed25519 keys */
};

#define JWT_ALGS_HMAC (JWT_HS256 | JWT_HS384 | JWT_HS512)
#define JWT_ALGS_KEYS (JWT_RS256 | JWT_ES256 | JWT_EDDSA)

struct jwt_policy {
    unsigned algs;              /* bitmask of enum jwt_alg; default HS256 */
    const unsigned char *secret; /* HS*: NULL or empty means none */
    size_t secret_len;
    const struct jwt_keyset *keys; /* RS256/ES256/EdDSA; NULL: none */
    const char *issuer;         /* NULL: not checked */
    const char *audience;       /* NULL: not checked */
    long leeway;                /* seconds; default 30 */
    const char *user_claim;     /* NULL: sub, then user_id, userId, id */
    const char *role_claim;     /* default "role" */
};

enum jwt_status {
    JWT_OK = 0,
    JWT_INVALID,                /* anything but an expiry alone */
    JWT_EXPIRED,                /* signature and every other claim fine */
    JWT_UNKNOWN_KID,            /* key-set alg, and no key of that type has
                                 * the header's kid: reload keys, retry once,
                                 * else treat as JWT_INVALID */
};

#define JWT_USER_MAX 255
#define JWT_JTI_MAX 255

struct jwt_identity {
    char user[JWT_USER_MAX + 1];
    int admin;                  /* role claim is exactly "admin" */
    char jti[JWT_JTI_MAX + 1];  /* "" when absent */
    char sid[JWT_JTI_MAX + 1];  /* "sid" (session id); "" when absent */
    long exp;
};

/* Parses "HS256,RS256,EdDSA" (commas or spaces; names case-sensitive) into
 * a bitmask; -1 on an unknown or unsupported name, with *bad pointing at it
 * (bad may be NULL). */
int jwt_algs_parse(const char *list, unsigned *mask, const char **bad);

/* Checks token (at most 8 KiB, unpadded base64url) against p at time now.
 * JWT_OK and JWT_EXPIRED fill *out (an expired token still names its user,
 * jti and sid); JWT_INVALID and JWT_UNKNOWN_KID leave *out zeroed.  A kid
 * header, when present, must be a string; with a key-set algorithm it
 * selects the keys tried (none of that type: JWT_UNKNOWN_KID), and without
 * one every key of the type is tried.  A NULL role_claim means "role"; a
 * negative leeway counts as 0. */
enum jwt_status jwt_verify(const struct jwt_policy *p, const char *token,
                           time_t now, struct jwt_identity *out);

/* Signs claims (a JSON object) with alg, which must be one HS* algorithm;
 * returns a malloc'd token or NULL. */
char *jwt_mint(enum jwt_alg alg, const unsigned char *secret, size_t len,
               struct json_object *claims);

/* Decodes n characters of strict unpadded base64url (no '=', canonical
 * final character) at s into out (cap bytes), storing the length in
 * *outlen; 0, or -1 on bad input or overflow.  Shared with jwk.c. */
/* Writes n bytes as unpadded base64url into out (room for 4 * ceil(n / 3)
 * + 1) and returns the length written. */
size_t jwt_b64url_encode(const unsigned char *in, size_t n, char *out);
int jwt_b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap,
                      size_t *outlen);

#endif
