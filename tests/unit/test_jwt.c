/*
 * test_jwt: jwt_verify against every rule of API.md's Authentication
 * table, jwt_mint round trips, jwt_algs_parse, and two tokens minted by
 * PyJWT 2.6 so that we agree with the rest of the world, not just with
 * ourselves.  Tokens that jwt_mint cannot produce (alg "none", odd headers,
 * broken encodings) are built by hand with the helpers below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"

#define NOW     ((time_t)1700000000)
#define SECRET  "unit-test-secret-0123456789abcdef"
#define HS256_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const struct jwt_policy base = {
    .algs = JWT_HS256,
    .secret = (const unsigned char *)SECRET,
    .secret_len = sizeof(SECRET) - 1,
    .leeway = 30,
    .role_claim = "role",
};

/* -------------------------------------------------------------- helpers */

#include "unit_token.h"

/* Takes header and payload JSON text and a digest; returns the token
 * "b64(hdr).b64(payload).b64(HMAC(secret))" (caller frees).  A NULL md
 * leaves the signature segment empty. */
static char *craft_md(const char *hdr, const char *pl, const EVP_MD *md,
                      const char *secret)
{
    return hmac_token(hdr, pl, md, secret, strlen(secret));
}

/* Takes a header and a payload; returns an HS256 token signed with SECRET. */
static char *craft(const char *hdr, const char *pl)
{
    return craft_md(hdr, pl, EVP_sha256(), SECRET);
}

/* Takes "header.payload" exactly as it should appear in the token (so it
 * may hold characters base64url forbids); returns it with a valid HS256
 * signature appended (caller frees).  Decoding, not the signature, must
 * then be what rejects it. */
static char *sign_raw(const char *hp)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    char *s, *t;
    size_t n;

    assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
                         (const unsigned char *)hp, strlen(hp), mac, &maclen));
    s = b64url(mac, maclen);
    n = strlen(hp) + strlen(s) + 2;
    t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%s.%s", hp, s);
    free(s);
    return t;
}

/* Takes claims as JSON text; returns a token jwt_mint signed with SECRET. */
static char *mint_alg(enum jwt_alg alg, const char *claims)
{
    struct json_object *o = json_tokener_parse(claims);
    char *t;

    assert_non_null(o);
    t = jwt_mint(alg, (const unsigned char *)SECRET, sizeof(SECRET) - 1, o);
    json_object_put(o);
    assert_non_null(t);
    return t;
}

static char *mint(const char *claims)
{
    return mint_alg(JWT_HS256, claims);
}

/* Takes a policy and a token (freed here); returns what jwt_verify says,
 * checking that *out is zeroed unless the answer is JWT_OK or JWT_EXPIRED. */
static enum jwt_status verify_id(const struct jwt_policy *p, char *tok,
                                 struct jwt_identity *out)
{
    static const struct jwt_identity zero;
    enum jwt_status st;

    memset(out, 0x5a, sizeof *out);
    st = jwt_verify(p, tok, NOW, out);
    if (st != JWT_OK && st != JWT_EXPIRED)
        assert_memory_equal(out, &zero, sizeof zero);
    free(tok);
    return st;
}

static enum jwt_status verify(const struct jwt_policy *p, char *tok)
{
    struct jwt_identity id;

    return verify_id(p, tok, &id);
}

/* Takes claims as a printf format (for NOW-relative times); returns the
 * status of an HS256 token holding them under the base policy. */
static enum jwt_status check(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static enum jwt_status check(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return verify(&base, mint(buf));
}

/* ------------------------------------------------------- the happy path */

static void test_mint_verify(void **state)
{
    struct jwt_identity id;
    struct jwt_policy p = base;

    (void)state;
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"alice\",\"exp\":1700003600,"
                                          "\"iat\":1700000000,\"jti\":\"j-1\","
                                          "\"role\":\"admin\"}"), &id), JWT_OK);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.jti, "j-1");
    assert_int_equal(id.admin, 1);
    assert_int_equal(id.exp, 1700003600);

    assert_int_equal(verify_id(&base, mint("{\"sub\":\"bob\",\"exp\":1700003600}"),
                               &id), JWT_OK);
    assert_string_equal(id.user, "bob");
    assert_string_equal(id.jti, "");
    assert_int_equal(id.admin, 0);

    p.algs = JWT_HS384 | JWT_HS512;
    assert_int_equal(verify(&p, mint_alg(JWT_HS384,
                     "{\"sub\":\"a\",\"exp\":1700003600}")), JWT_OK);
    assert_int_equal(verify(&p, mint_alg(JWT_HS512,
                     "{\"sub\":\"a\",\"exp\":1700003600}")), JWT_OK);
    /* A fractional exp is a number too; it is reported rounded up. */
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"a\",\"exp\":1700000000.5}"),
                               &id), JWT_OK);
    assert_int_equal(id.exp, 1700000001);
}

static void test_mint_args(void **state)
{
    struct json_object *o = json_tokener_parse("{\"sub\":\"a\"}");
    struct json_object *arr = json_tokener_parse("[1]");
    const unsigned char *k = (const unsigned char *)SECRET;
    char *t;

    (void)state;
    assert_null(jwt_mint((enum jwt_alg)0, k, 5, o));
    assert_null(jwt_mint((enum jwt_alg)(JWT_HS256 | JWT_HS384), k, 5, o));
    assert_null(jwt_mint(JWT_HS256, k, 0, o));
    assert_null(jwt_mint(JWT_HS256, NULL, 5, o));
    assert_null(jwt_mint(JWT_HS256, k, 5, arr));
    assert_null(jwt_mint(JWT_HS256, k, 5, NULL));
    /* The header is exactly the one API clients expect. */
    t = jwt_mint(JWT_HS256, k, 5, o);
    assert_non_null(t);
    assert_memory_equal(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);
    assert_null(strchr(t, '='));
    free(t);
    json_object_put(o);
    json_object_put(arr);
}

/* PyJWT 2.6.0: jwt.encode({'sub':'user-42','role':'admin','jti':'pyjwt-jti-1',
 * 'iat':1700000000,'exp':4102444800}, SECRET, algorithm='HS256') and
 * jwt.encode({'sub':'user-384','iss':'todo-issuer','aud':['other','todo-api'],
 * 'exp':4102444800}, SECRET, algorithm='HS384'), SECRET being PYSECRET. */
#define PYSECRET "pyjwt-test-secret-0123456789abcdef"
static const char py256[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6Im"
    "FkbWluIiwianRpIjoicHlqd3QtanRpLTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0"
    "NDgwMH0.buL3c1ewqtK5yAVw8HINLQMhpv-RVcZvbbQOwYj1VaI";
static const char py384[] =
    "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTM4NCIsImlzcyI6InRv"
    "ZG8taXNzdWVyIiwiYXVkIjpbIm90aGVyIiwidG9kby1hcGkiXSwiZXhwIjo0MTAyNDQ0ODAwfQ"
    ".exy05kOPjeOwLcNRZwG3L76SNxTUPbRPZ21PG9-dfrbzZdvoYZNhyLSdt5U1ngk6";

static void test_pyjwt(void **state)
{
    struct jwt_policy p = base;
    struct jwt_identity id;

    (void)state;
    p.secret = (const unsigned char *)PYSECRET;
    p.secret_len = sizeof(PYSECRET) - 1;
    assert_int_equal(jwt_verify(&p, py256, NOW, &id), JWT_OK);
    assert_string_equal(id.user, "user-42");
    assert_string_equal(id.jti, "pyjwt-jti-1");
    assert_int_equal(id.admin, 1);
    assert_int_equal(id.exp, 4102444800L);

    /* HS384 is refused until the policy allows it. */
    assert_int_equal(jwt_verify(&p, py384, NOW, &id), JWT_INVALID);
    p.algs = JWT_HS256 | JWT_HS384;
    p.issuer = "todo-issuer";
    p.audience = "todo-api";
    assert_int_equal(jwt_verify(&p, py384, NOW, &id), JWT_OK);
    assert_string_equal(id.user, "user-384");
    assert_int_equal(id.admin, 0);
    p.audience = "todo";
    assert_int_equal(jwt_verify(&p, py384, NOW, &id), JWT_INVALID);

    /* The right token with someone else's secret. */
    assert_int_equal(jwt_verify(&base, py256, NOW, &id), JWT_INVALID);
}

/* ---------------------------------------------- algorithm and signature */

static void test_alg_none(void **state)
{
    static const char pl[] = "{\"sub\":\"alice\",\"exp\":1700003600}";
    struct jwt_policy p = base;

    (void)state;
    p.algs = JWT_HS256 | JWT_HS384 | JWT_HS512;
    assert_int_equal(verify(&p, craft_md("{\"alg\":\"none\",\"typ\":\"JWT\"}", pl,
                                         NULL, "")), JWT_INVALID);
    assert_int_equal(verify(&p, craft_md("{\"alg\":\"none\"}", pl, NULL, "")),
                     JWT_INVALID);
    /* Even with a signature that would be right for HS256. */
    assert_int_equal(verify(&p, craft("{\"alg\":\"none\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&p, craft("{\"alg\":\"None\"}", pl)), JWT_INVALID);
    /* The same claims under HS256 are fine: it is the alg that fails. */
    assert_int_equal(verify(&p, craft(HS256_HDR, pl)), JWT_OK);
}

static void test_alg_not_allowed(void **state)
{
    static const char pl[] = "{\"sub\":\"alice\",\"exp\":1700003600}";

    (void)state;
    assert_int_equal(verify(&base, mint_alg(JWT_HS512, pl)), JWT_INVALID);
    assert_int_equal(verify(&base, mint_alg(JWT_HS384, pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"hs256\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256 \"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"RS256\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"EdDSA\"}", pl)), JWT_INVALID);
    /* An HS512 signature under an HS256 header. */
    assert_int_equal(verify(&base, craft_md(HS256_HDR, pl, EVP_sha512(), SECRET)),
                     JWT_INVALID);
}

static void test_header_shape(void **state)
{
    static const char pl[] = "{\"sub\":\"alice\",\"exp\":1700003600}";

    (void)state;
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\"}", pl)), JWT_OK);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\","
                                         "\"kid\":\"k1\"}", pl)), JWT_OK);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"typ\":1}", pl)),
                     JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"typ\":\"JWT\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":256}", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":[\"HS256\"]}", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("[\"HS256\"]", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("\"HS256\"", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\"", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\"}x", pl)), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"crit\":[\"b64\"],"
                                         "\"b64\":false}", pl)), JWT_INVALID);
    /* Payloads that are signed but not a JSON object. */
    assert_int_equal(verify(&base, craft(HS256_HDR, "[1]")), JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR, "")), JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR, "null")), JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR,
                     "{\"sub\":\"alice\",\"exp\":1700003600}{}")), JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR,
                     "{'sub':'alice','exp':1700003600}")), JWT_INVALID);
}

static void test_wrong_secret(void **state)
{
    static const char pl[] = "{\"sub\":\"alice\",\"exp\":1700003600}";
    struct jwt_policy p = base;

    (void)state;
    assert_int_equal(verify(&base, craft_md(HS256_HDR, pl, EVP_sha256(),
                                            SECRET "x")), JWT_INVALID);
    p.secret = (const unsigned char *)"another-secret-another-secret-xx";
    assert_int_equal(verify(&p, mint(pl)), JWT_INVALID);
    /* No key, no tokens. */
    p.secret_len = 0;
    assert_int_equal(verify(&p, mint(pl)), JWT_INVALID);
    p.secret = NULL;
    p.secret_len = 5;
    assert_int_equal(verify(&p, mint(pl)), JWT_INVALID);
}

static void test_tampered(void **state)
{
    char *t = mint("{\"sub\":\"alice\",\"exp\":1700003600}");
    char *u;
    size_t n;

    (void)state;
    u = swap_payload(t, "{\"sub\":\"alice\",\"exp\":1700003600}");
    assert_string_equal(u, t);  /* same bytes re-encoded: still valid */
    assert_int_equal(verify(&base, u), JWT_OK);
    assert_int_equal(verify(&base, swap_payload(t, "{\"sub\":\"mallory\","
                                                   "\"exp\":1700003600}")),
                     JWT_INVALID);
    assert_int_equal(verify(&base, swap_payload(t, "{\"sub\":\"alice\","
                                                   "\"exp\":1800003600}")),
                     JWT_INVALID);
    assert_int_equal(verify(&base, swap_payload(t, "{\"sub\":\"alice\","
                     "\"exp\":1700003600,\"role\":\"admin\"}")), JWT_INVALID);
    /* Truncated signature, flipped signature byte. */
    u = strdup(t);
    n = strlen(u);
    u[n - 4] = '\0';
    assert_int_equal(verify(&base, u), JWT_INVALID);
    u = strdup(t);
    u[n - 3] = u[n - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(&base, u), JWT_INVALID);
    free(t);
}

/* --------------------------------------------------- encoding and shape */

/* Takes a valid token, a prefix and a suffix; returns the status of
 * prefix + token + suffix. */
static enum jwt_status mangle(const char *tok, const char *pre, const char *suf)
{
    char buf[1024];

    snprintf(buf, sizeof buf, "%s%s%s", pre, tok, suf);
    return verify(&base, strdup(buf));
}

/* Claim strings are as strict as request bodies: bytes that are not UTF-8
 * (an overlong form, a lone surrogate) make the token invalid, even signed. */
static void test_claims_that_are_not_utf8(void **state)
{
    static const char *const bad[] = {
        "{\"sub\":\"alic\xc1\xa5\",\"exp\":1700003600}",
        "{\"sub\":\"\xed\xa0\x80\",\"exp\":1700003600}",
        "{\"sub\":\"alice\",\"jti\":\"j\xc0\xaf\",\"exp\":1700003600}",
        "{\"sub\":\"alice\",\"sid\":\"\xf5\x80\x80\x80\",\"exp\":1700003600}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\"}", bad[i])), JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\"}",
                                         "{\"sub\":\"\xc3\xa4pfel\",\"exp\":1700003600}")),
                     JWT_OK);
}

static void test_bad_base64(void **state)
{
    char *t = mint("{\"sub\":\"alice\",\"exp\":1700003600}");
    char *u, *h, *p, buf[512];
    size_t n = strlen(t);

    (void)state;
    assert_int_equal(mangle(t, "", ""), JWT_OK);
    /* HS256 signature: 43 characters, unused bits must be zero. */
    assert_int_equal(strlen(strrchr(t, '.') + 1), 43);
    assert_int_equal(mangle(t, "", "="), JWT_INVALID);
    assert_int_equal(mangle(t, "", "A"), JWT_INVALID);  /* 33 bytes */
    assert_int_equal(mangle(t, "", "AA"), JWT_INVALID); /* 4k+1 */
    assert_int_equal(mangle(t, "", " "), JWT_INVALID);
    assert_int_equal(mangle(t, " ", ""), JWT_INVALID);
    assert_int_equal(mangle(t, "", "\n"), JWT_INVALID);
    u = strdup(t);
    u[n - 5] = '+';
    assert_int_equal(verify(&base, u), JWT_INVALID);
    /* Non-canonical last character of the signature: same bytes. */
    u = strdup(t);
    assert_non_null(strchr("AEIMQUYcgkosw048", u[n - 1]));
    u[n - 1] = (char)(u[n - 1] + 1);
    assert_int_equal(verify(&base, u), JWT_INVALID);

    /* The rest are correctly signed as written: only decoding can refuse
     * them.  {"alg":"HS256" } is 16 bytes: 22 characters, or 24 padded. */
    h = b64url("{\"alg\":\"HS256\" }", 16);
    p = b64url("{\"sub\":\"alice\",\"exp\":1700003600}", 32);
    assert_int_equal(strlen(h), 22);
    snprintf(buf, sizeof buf, "%s.%s", h, p);
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_OK);
    snprintf(buf, sizeof buf, "%s==.%s", h, p);
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    snprintf(buf, sizeof buf, "%s=.%s", h, p);
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    free(p);
    /* A 33-byte payload is 44 characters; one more 'A' adds only unused
     * (zero) bits, and the length 4k+1 alone must refuse it. */
    p = b64url("{\"sub\":\"alice\",\"exp\":1700003600 }", 33);
    assert_int_equal(strlen(p), 44);
    snprintf(buf, sizeof buf, "%s.%s", h, p);
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_OK);
    snprintf(buf, sizeof buf, "%s.%sA", h, p);
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    snprintf(buf, sizeof buf, "%s.%s", h, p);
    buf[21] = (char)(buf[21] + 1);                    /* non-canonical */
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    /* '+' and '/' are standard base64, not base64url. */
    snprintf(buf, sizeof buf, "%s.%s", h, p);
    buf[5] = '+';
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    buf[5] = '/';
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    buf[5] = '*';
    assert_int_equal(verify(&base, sign_raw(buf)), JWT_INVALID);
    free(h);
    free(p);
    free(t);
}

static void test_segments(void **state)
{
    char *t = mint("{\"sub\":\"alice\",\"exp\":1700003600}");
    char buf[1024];
    struct jwt_identity id;

    (void)state;
    /* Two segments: drop the signature and its dot. */
    snprintf(buf, sizeof buf, "%.*s", (int)(strrchr(t, '.') - t), t);
    assert_int_equal(verify(&base, strdup(buf)), JWT_INVALID);
    /* Four segments. */
    assert_int_equal(mangle(t, "", ".AAAA"), JWT_INVALID);
    assert_int_equal(mangle(t, "", "."), JWT_INVALID);
    assert_int_equal(mangle(t, "AAAA.", ""), JWT_INVALID);
    assert_int_equal(verify(&base, strdup("")), JWT_INVALID);
    assert_int_equal(verify(&base, strdup("..")), JWT_INVALID);
    assert_int_equal(verify(&base, strdup("...")), JWT_INVALID);
    assert_int_equal(verify(&base, strdup("abc")), JWT_INVALID);
    assert_int_equal(jwt_verify(&base, NULL, NOW, &id), JWT_INVALID);
    assert_int_equal(jwt_verify(NULL, t, NOW, &id), JWT_INVALID);
    assert_int_equal(jwt_verify(&base, t, NOW, NULL), JWT_INVALID);
    free(t);
}

static void test_length_cap(void **state)
{
    char *big = malloc(8200), claims[8300];

    (void)state;
    assert_non_null(big);
    /* About 7.9 KiB once encoded: accepted. */
    memset(big, 'x', 5800);
    big[5800] = '\0';
    snprintf(claims, sizeof claims, "{\"sub\":\"a\",\"exp\":1700003600,"
             "\"pad\":\"%s\"}", big);
    assert_int_equal(verify(&base, mint(claims)), JWT_OK);
    /* About 8.3 KiB: refused before anything is decoded. */
    memset(big, 'x', 6200);
    big[6200] = '\0';
    snprintf(claims, sizeof claims, "{\"sub\":\"a\",\"exp\":1700003600,"
             "\"pad\":\"%s\"}", big);
    assert_int_equal(verify(&base, mint(claims)), JWT_INVALID);
    free(big);
}

/* ---------------------------------------------------------- time claims */

static void test_exp(void **state)
{
    struct jwt_identity id;

    (void)state;
    assert_int_equal(check("{\"sub\":\"a\"}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":\"1700003600\"}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":true}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":null}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":[1800000000]}"), JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR, "{\"sub\":\"a\",\"exp\":1e999}")),
                     JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR, "{\"sub\":\"a\",\"exp\":Infinity}")),
                     JWT_INVALID);
    assert_int_equal(verify(&base, craft(HS256_HDR, "{\"sub\":\"a\",\"exp\":NaN}")),
                     JWT_INVALID);
    /* Past beyond the leeway (30 s), at its edge, and within it. */
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld}", (long)NOW - 3600),
                     JWT_EXPIRED);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld}", (long)NOW - 31),
                     JWT_EXPIRED);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld}", (long)NOW - 30),
                     JWT_EXPIRED);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld}", (long)NOW - 29),
                     JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld}", (long)NOW - 1),
                     JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld.5}", (long)NOW - 31),
                     JWT_EXPIRED);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld.5}", (long)NOW - 30),
                     JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":0}"), JWT_EXPIRED);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":-5}"), JWT_EXPIRED);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1e300}"), JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":18446744073709551615}"), JWT_OK);

    /* Expired tokens still say whose they were. */
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"carol\",\"exp\":1000,"
                                          "\"jti\":\"j9\"}"), &id), JWT_EXPIRED);
    assert_string_equal(id.user, "carol");
    assert_string_equal(id.jti, "j9");
    assert_int_equal(id.exp, 1000);
}

static void test_exp_leeway_zero(void **state)
{
    struct jwt_policy p = base;

    (void)state;
    p.leeway = 0;
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700000000}")),
                     JWT_EXPIRED);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700000001}")),
                     JWT_OK);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"nbf\":1700000001}")), JWT_INVALID);
}

static void test_nbf_iat(void **state)
{
    (void)state;
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"nbf\":%ld}",
                           (long)NOW + 3600, (long)NOW - 10), JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"nbf\":%ld}",
                           (long)NOW + 3600, (long)NOW + 30), JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"nbf\":%ld}",
                           (long)NOW + 3600, (long)NOW + 31), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"iat\":%ld}",
                           (long)NOW + 3600, (long)NOW + 30), JWT_OK);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"iat\":%ld}",
                           (long)NOW + 3600, (long)NOW + 3000), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"iat\":%ld.25}",
                           (long)NOW + 3600, (long)NOW + 30), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"nbf\":\"0\"}",
                           (long)NOW + 3600), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"iat\":false}",
                           (long)NOW + 3600), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"iat\":null}",
                           (long)NOW + 3600), JWT_INVALID);
    /* Not yet valid and already expired: invalid, never "expired". */
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"nbf\":%ld}",
                           (long)NOW - 3600, (long)NOW + 3600), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":%ld,\"iat\":%ld}",
                           (long)NOW - 3600, (long)NOW + 3600), JWT_INVALID);
}

/* -------------------------------------------------- issuer and audience */

static void test_iss(void **state)
{
    struct jwt_policy p = base;

    (void)state;
    /* Not configured: anything goes. */
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"iss\":42}")), JWT_OK);
    p.issuer = "https://auth.example";
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"iss\":\"https://auth.example\"}")), JWT_OK);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"iss\":\"https://auth.example/\"}")),
                     JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"iss\":\"https://auth.exampl\"}")),
                     JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"iss\":\"https://auth.example\\u0000x\"}")),
                     JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"iss\":[\"https://auth.example\"]}")),
                     JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600}")),
                     JWT_INVALID);
    /* A wrong issuer on an expired token is still just invalid. */
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1000,"
                                     "\"iss\":\"evil\"}")), JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1000,"
                                     "\"iss\":\"https://auth.example\"}")),
                     JWT_EXPIRED);
}

static void test_aud(void **state)
{
    struct jwt_policy p = base;

    (void)state;
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":{}}")), JWT_OK);
    p.audience = "todo-api";
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":\"todo-api\"}")), JWT_OK);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":\"todo-apix\"}")), JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600}")),
                     JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":[\"x\",\"todo-api\",3]}")), JWT_OK);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":[\"x\",\"TODO-API\"]}")), JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":[]}")), JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":[[\"todo-api\"]]}")), JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                                     "\"aud\":{\"todo-api\":1}}")), JWT_INVALID);
    assert_int_equal(verify(&p, mint("{\"sub\":\"a\",\"exp\":1000,"
                                     "\"aud\":\"other\"}")), JWT_INVALID);
}

/* ------------------------------------------------------ user, role, jti */

/* Takes claims (exp is added) and the expected user; checks both the status
 * and the user id copied out. */
static void user_is(const struct jwt_policy *p, const char *claims, const char *want)
{
    struct jwt_identity id;
    char buf[1024];

    snprintf(buf, sizeof buf, "{\"exp\":1700003600,%s}", claims);
    if (want == NULL) {
        assert_int_equal(verify_id(p, mint(buf), &id), JWT_INVALID);
        return;
    }
    assert_int_equal(verify_id(p, mint(buf), &id), JWT_OK);
    assert_string_equal(id.user, want);
}

static void test_user_fallbacks(void **state)
{
    (void)state;
    user_is(&base, "\"sub\":\"s1\"", "s1");
    user_is(&base, "\"user_id\":\"u1\"", "u1");
    user_is(&base, "\"userId\":\"u2\"", "u2");
    user_is(&base, "\"id\":\"u3\"", "u3");
    user_is(&base, "\"sub\":\"s\",\"user_id\":\"s\",\"userId\":\"s\",\"id\":\"s\"",
            "s");
    user_is(&base, "\"userId\":\"x\",\"id\":\"x\"", "x");
    /* Disagreement anywhere, or any of them not a string, is invalid. */
    user_is(&base, "\"sub\":\"s\",\"user_id\":\"t\"", NULL);
    user_is(&base, "\"sub\":\"s\",\"id\":\"S\"", NULL);
    user_is(&base, "\"user_id\":\"u\",\"userId\":\"v\"", NULL);
    user_is(&base, "\"sub\":\"7\",\"id\":7", NULL);
    user_is(&base, "\"sub\":\"s\",\"userId\":null", NULL);
    user_is(&base, "\"id\":7", NULL);
    user_is(&base, "\"sub\":7", NULL);
    user_is(&base, "\"sub\":{\"id\":\"x\"}", NULL);
    user_is(&base, "\"sub\":null", NULL);
    user_is(&base, "\"name\":\"alice\"", NULL);
    user_is(&base, "\"ID\":\"alice\",\"Sub\":\"alice\"", NULL);
}

static void test_user_claim_mode(void **state)
{
    struct jwt_policy p = base;

    (void)state;
    p.user_claim = "uid";
    user_is(&p, "\"uid\":\"u\",\"sub\":\"s\",\"id\":\"i\"", "u");
    user_is(&p, "\"uid\":\"u\",\"sub\":42", "u");
    user_is(&p, "\"sub\":\"s\"", NULL);
    user_is(&p, "\"user_id\":\"s\",\"id\":\"s\"", NULL);
    user_is(&p, "\"uid\":42", NULL);
    user_is(&p, "\"uid\":\"\"", NULL);
    p.user_claim = "sub";
    user_is(&p, "\"sub\":\"s\",\"user_id\":\"other\"", "s");
    user_is(&p, "\"user_id\":\"u\"", NULL);
}

static void test_user_bounds(void **state)
{
    char u[300], claims[400], want[300];

    (void)state;
    user_is(&base, "\"sub\":\"\"", NULL);
    user_is(&base, "\"sub\":\"\",\"id\":\"\"", NULL);
    user_is(&base, "\"sub\":\"a\\u0000b\"", NULL);
    user_is(&base, "\"sub\":\"\\u0000\"", NULL);
    user_is(&base, "\"sub\":\"caf\\u00e9\"", "caf\xc3\xa9");
    user_is(&base, "\"sub\":\" a b \"", " a b ");

    memset(u, 'u', 255);
    u[255] = '\0';
    snprintf(claims, sizeof claims, "\"sub\":\"%s\"", u);
    memcpy(want, u, 256);
    user_is(&base, claims, want);
    u[255] = 'u';
    u[256] = '\0';
    snprintf(claims, sizeof claims, "\"sub\":\"%s\"", u);
    user_is(&base, claims, NULL);
    /* 128 two-byte characters: 128 characters but 256 bytes. */
    claims[0] = '\0';
    strcat(claims, "\"sub\":\"");
    for (int i = 0; i < 128; i++)
        strcat(claims, "\xc3\xa9");
    strcat(claims, "\"");
    user_is(&base, claims, NULL);
}

static void test_admin(void **state)
{
    struct jwt_identity id;
    struct jwt_policy p = base;
    static const struct {
        const char *role;
        int admin;
    } cases[] = {
        { "\"role\":\"admin\"", 1 },
        { "\"role\":\"Admin\"", 0 },
        { "\"role\":\"ADMIN\"", 0 },
        { "\"role\":\"admin \"", 0 },
        { "\"role\":\"admin\\u0000\"", 0 },
        { "\"role\":\"administrator\"", 0 },
        { "\"role\":\"user\"", 0 },
        { "\"role\":[\"admin\"]", 0 },
        { "\"role\":{\"admin\":true}", 0 },
        { "\"role\":true", 0 },
        { "\"role\":1", 0 },
        { "\"role\":null", 0 },
        { "\"roles\":\"admin\"", 0 },
        { "\"x\":1", 0 },
    };
    char buf[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "{\"sub\":\"a\",\"exp\":1700003600,%s}",
                 cases[i].role);
        assert_int_equal(verify_id(&base, mint(buf), &id), JWT_OK);
        assert_int_equal(id.admin, cases[i].admin);
    }
    /* A custom role claim; the default one then means nothing. */
    p.role_claim = "https://todo.example/role";
    assert_int_equal(verify_id(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                     "\"https://todo.example/role\":\"admin\"}"), &id), JWT_OK);
    assert_int_equal(id.admin, 1);
    assert_int_equal(verify_id(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                     "\"role\":\"admin\"}"), &id), JWT_OK);
    assert_int_equal(id.admin, 0);
    /* No role claim configured: "role". */
    p.role_claim = NULL;
    assert_int_equal(verify_id(&p, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                     "\"role\":\"admin\"}"), &id), JWT_OK);
    assert_int_equal(id.admin, 1);
}

static void test_jti(void **state)
{
    struct jwt_identity id;
    char j[300], buf[512];

    (void)state;
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                     "\"jti\":\"0b6f-11ee\"}"), &id), JWT_OK);
    assert_string_equal(id.jti, "0b6f-11ee");
    memset(j, 'j', 255);
    j[255] = '\0';
    snprintf(buf, sizeof buf, "{\"sub\":\"a\",\"exp\":1700003600,\"jti\":\"%s\"}", j);
    assert_int_equal(verify_id(&base, mint(buf), &id), JWT_OK);
    assert_string_equal(id.jti, j);
    j[255] = 'j';
    j[256] = '\0';
    snprintf(buf, sizeof buf, "{\"sub\":\"a\",\"exp\":1700003600,\"jti\":\"%s\"}", j);
    assert_int_equal(verify(&base, mint(buf)), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"jti\":7}"),
                     JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"jti\":null}"),
                     JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"jti\":\"a\\u0000b\"}"),
                     JWT_INVALID);
}

static void test_sid(void **state)
{
    struct jwt_identity id;
    char j[300], buf[512];

    (void)state;
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"a\",\"exp\":1700003600,"
                     "\"sid\":\"sess-7\",\"jti\":\"j-7\"}"), &id), JWT_OK);
    assert_string_equal(id.sid, "sess-7");
    assert_string_equal(id.jti, "j-7");
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"a\",\"exp\":1700003600}"),
                               &id), JWT_OK);
    assert_string_equal(id.sid, "");
    /* An expired token still says which session it belonged to. */
    assert_int_equal(verify_id(&base, mint("{\"sub\":\"a\",\"exp\":1000,"
                     "\"sid\":\"s-old\"}"), &id), JWT_EXPIRED);
    assert_string_equal(id.sid, "s-old");
    memset(j, 's', 255);
    j[255] = '\0';
    snprintf(buf, sizeof buf, "{\"sub\":\"a\",\"exp\":1700003600,\"sid\":\"%s\"}", j);
    assert_int_equal(verify_id(&base, mint(buf), &id), JWT_OK);
    assert_string_equal(id.sid, j);
    j[255] = 's';
    j[256] = '\0';
    snprintf(buf, sizeof buf, "{\"sub\":\"a\",\"exp\":1700003600,\"sid\":\"%s\"}", j);
    assert_int_equal(verify(&base, mint(buf)), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"sid\":7}"),
                     JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"sid\":null}"),
                     JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"sid\":[\"s\"]}"),
                     JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1700003600,\"sid\":\"a\\u0000b\"}"),
                     JWT_INVALID);
    /* A bad sid on an expired token is invalid, not expired. */
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1000,\"sid\":7}"),
                     JWT_INVALID);
}

/* --------------------- kid and the key-set algorithms without a key set */

static void test_kid_and_keyless(void **state)
{
    static const char pl[] = "{\"sub\":\"alice\",\"exp\":1700003600}";
    struct json_object *o = json_tokener_parse(pl);
    struct jwt_policy p = base;

    (void)state;
    /* HS tokens ignore a string kid, but a kid must be a string. */
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"kid\":\"\"}", pl)),
                     JWT_OK);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"kid\":1}", pl)),
                     JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"kid\":null}", pl)),
                     JWT_INVALID);
    assert_int_equal(verify(&base, craft("{\"alg\":\"HS256\",\"kid\":[\"k\"]}",
                                         pl)), JWT_INVALID);
    /* Allowed key-set algorithms with no key set: an HMAC "signature" is
     * nothing to them, and a kid asks for a reload (*out zeroed). */
    p.algs = JWT_ALGS_HMAC | JWT_ALGS_KEYS;
    assert_int_equal(verify(&p, craft("{\"alg\":\"RS256\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&p, craft("{\"alg\":\"ES256\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&p, craft("{\"alg\":\"EdDSA\"}", pl)), JWT_INVALID);
    assert_int_equal(verify(&p, craft("{\"alg\":\"RS256\",\"kid\":\"k1\"}", pl)),
                     JWT_UNKNOWN_KID);
    /* EdDSA signatures are 64 bytes: a 32-byte one is invalid, kid or not. */
    assert_int_equal(verify(&p, craft("{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", pl)),
                     JWT_INVALID);
    assert_int_equal(verify(&p, craft_md("{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", pl,
                                         EVP_sha512(), SECRET)), JWT_UNKNOWN_KID);
    assert_int_equal(verify(&p, craft("{\"alg\":\"RS256\",\"kid\":7}", pl)),
                     JWT_INVALID);
    /* The same token under HS256 is fine. */
    assert_int_equal(verify(&p, craft("{\"alg\":\"HS256\",\"kid\":\"k1\"}", pl)),
                     JWT_OK);
    /* jwt_mint signs HMAC only. */
    assert_null(jwt_mint(JWT_RS256, (const unsigned char *)SECRET, 5, o));
    assert_null(jwt_mint(JWT_ES256, (const unsigned char *)SECRET, 5, o));
    assert_null(jwt_mint(JWT_EDDSA, (const unsigned char *)SECRET, 5, o));
    json_object_put(o);
}

/* --------- ordering: expiry is reported only on an otherwise good token */

static void test_expired_and_invalid(void **state)
{
    static const char pl[] = "{\"sub\":\"a\",\"exp\":1000}";
    char *t;

    (void)state;
    assert_int_equal(verify(&base, craft(HS256_HDR, pl)), JWT_EXPIRED);
    assert_int_equal(verify(&base, craft_md(HS256_HDR, pl, EVP_sha256(), "nope")),
                     JWT_INVALID);
    assert_int_equal(verify(&base, craft_md("{\"alg\":\"none\"}", pl, NULL, "")),
                     JWT_INVALID);
    assert_int_equal(verify(&base, mint_alg(JWT_HS512, pl)), JWT_INVALID);
    t = mint("{\"sub\":\"a\",\"exp\":1000}");
    assert_int_equal(verify(&base, swap_payload(t, "{\"sub\":\"b\",\"exp\":1000}")),
                     JWT_INVALID);
    free(t);
    assert_int_equal(check("{\"exp\":1000}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"\",\"exp\":1000}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"id\":\"b\",\"exp\":1000}"), JWT_INVALID);
    assert_int_equal(check("{\"sub\":\"a\",\"exp\":1000,\"jti\":[]}"), JWT_INVALID);
}

/* ------------------------------------------------------- jwt_algs_parse */

static void test_algs_parse(void **state)
{
    const char *bad = NULL, *s;
    unsigned m = 0;

    (void)state;
    assert_int_equal(jwt_algs_parse("HS256", &m, &bad), 0);
    assert_int_equal(m, JWT_HS256);
    assert_int_equal(jwt_algs_parse("HS256,HS384", &m, &bad), 0);
    assert_int_equal(m, JWT_HS256 | JWT_HS384);
    assert_int_equal(jwt_algs_parse("HS512 HS256", &m, &bad), 0);
    assert_int_equal(m, JWT_HS256 | JWT_HS512);
    assert_int_equal(jwt_algs_parse("  HS384 ,, HS512,HS256 ", &m, NULL), 0);
    assert_int_equal(m, JWT_HS256 | JWT_HS384 | JWT_HS512);
    assert_int_equal(jwt_algs_parse("HS256,HS256", &m, NULL), 0);
    assert_int_equal(m, JWT_HS256);
    assert_int_equal(jwt_algs_parse("RS256", &m, NULL), 0);
    assert_int_equal(m, JWT_RS256);
    assert_int_equal(jwt_algs_parse("ES256 EdDSA,HS256", &m, NULL), 0);
    assert_int_equal(m, JWT_ES256 | JWT_EDDSA | JWT_HS256);
    assert_int_equal(jwt_algs_parse("HS256,HS384,HS512,RS256,ES256,EdDSA", &m,
                                    NULL), 0);
    assert_int_equal(m, JWT_ALGS_HMAC | JWT_ALGS_KEYS);

    m = 99;
    assert_int_equal(jwt_algs_parse("", &m, &bad), -1);
    assert_int_equal(jwt_algs_parse(" , ,", &m, &bad), -1);
    assert_int_equal(jwt_algs_parse(NULL, &m, &bad), -1);
    assert_int_equal(jwt_algs_parse("hs256", &m, &bad), -1);
    assert_int_equal(jwt_algs_parse("HS2566", &m, &bad), -1);
    assert_int_equal(jwt_algs_parse("none", &m, NULL), -1);
    s = "HS256, RS512,HS384";
    assert_int_equal(jwt_algs_parse(s, &m, &bad), -1);
    assert_ptr_equal(bad, s + 7);
    s = "HS256,HS512,eddsa";
    assert_int_equal(jwt_algs_parse(s, &m, &bad), -1);
    assert_ptr_equal(bad, s + 12);
    /* Neither the curve nor JOSE names we do not verify. */
    assert_int_equal(jwt_algs_parse("Ed25519", &m, NULL), -1);
    assert_int_equal(jwt_algs_parse("PS256", &m, NULL), -1);
    assert_int_equal(jwt_algs_parse("ES384", &m, NULL), -1);
    assert_int_equal(jwt_algs_parse("ES256K", &m, NULL), -1);
    assert_int_equal(m, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mint_verify),
        cmocka_unit_test(test_mint_args),
        cmocka_unit_test(test_pyjwt),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_not_allowed),
        cmocka_unit_test(test_header_shape),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_claims_that_are_not_utf8),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_length_cap),
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_exp_leeway_zero),
        cmocka_unit_test(test_nbf_iat),
        cmocka_unit_test(test_iss),
        cmocka_unit_test(test_aud),
        cmocka_unit_test(test_user_fallbacks),
        cmocka_unit_test(test_user_claim_mode),
        cmocka_unit_test(test_user_bounds),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_jti),
        cmocka_unit_test(test_sid),
        cmocka_unit_test(test_kid_and_keyless),
        cmocka_unit_test(test_expired_and_invalid),
        cmocka_unit_test(test_algs_parse),
    };

    return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
