/*
 * jwt: verifies and mints HMAC-signed JSON Web Tokens (HS256/384/512).
 *
 * libjwt 1.10 lets a token pick its own verification method and checks no
 * claims, so this module does the whole job itself with OpenSSL's HMAC and
 * json-c: the header's "alg" must be in the policy's allow-list ("none"
 * never is), the signature is compared in constant time, then the claims are
 * checked exactly as API.md's Authentication table says (exp required and
 * later than now - leeway; nbf and iat, when present, not later than now +
 * leeway; iss equal and aud equal/containing when configured; the user id
 * from user_claim, or from sub, else user_id, userId, id, which must agree
 * when several are present: non-empty, at most 255 bytes, a JSON string).
 *
 * The policy is owned by the caller and only read.  jwt_verify() fills a
 * caller-owned struct jwt_identity and allocates nothing that outlives the
 * call.  jwt_mint() returns a malloc'd string the caller frees.
 */
#ifndef TODO_JWT_H
#define TODO_JWT_H

#include <stddef.h>
#include <time.h>

struct json_object;

enum jwt_alg {
    JWT_HS256 = 1 << 0,
    JWT_HS384 = 1 << 1,
    JWT_HS512 = 1 << 2,
};

struct jwt_policy {
    unsigned algs;              /* bitmask of enum jwt_alg; default HS256 */
    const unsigned char *secret;
    size_t secret_len;
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
};

#define JWT_USER_MAX 255
#define JWT_JTI_MAX 255

struct jwt_identity {
    char user[JWT_USER_MAX + 1];
    int admin;                  /* role claim is exactly "admin" */
    char jti[JWT_JTI_MAX + 1];  /* "" when absent */
    long exp;
};

/* Parses "HS256,HS384" (commas or spaces) into a bitmask; -1 on an unknown
 * or unsupported name, with *bad pointing at it (may be NULL). */
int jwt_algs_parse(const char *list, unsigned *mask, const char **bad);

/* Checks token (at most 8 KiB, unpadded base64url) against p at time now.
 * JWT_OK and JWT_EXPIRED fill *out (an expired token still names its user
 * and jti); JWT_INVALID leaves *out zeroed.  A NULL role_claim means
 * "role"; a negative leeway counts as 0. */
enum jwt_status jwt_verify(const struct jwt_policy *p, const char *token,
                           time_t now, struct jwt_identity *out);

/* Signs claims (a JSON object) with alg; returns a malloc'd token or NULL. */
char *jwt_mint(enum jwt_alg alg, const unsigned char *secret, size_t len,
               struct json_object *claims);

#endif
