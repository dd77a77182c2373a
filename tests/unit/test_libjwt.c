/*
 * test_libjwt: Debian's libjwt 1.10 as an independent oracle for our JWT
 * signature checks (tests/oracle), and why it is only an oracle.
 *
 * For HS256, HS384, HS512, RS256 and ES256, each pinned, thousands of
 * tokens (good ones, and ones with flipped, cut, lengthened or foreign
 * signatures, swapped or edited payloads, relabelled headers, cut text)
 * go to jwt_verify() and to libjwt's jwt_decode(); the two must agree, and
 * agree with what the token is.  Tokens are signed here with OpenSSL, by
 * libjwt, and by jwt_mint().  Keys: tests/unit/keys (run from the
 * repository root).
 *
 * test_not_delegated keeps the reasons verification is ours: libjwt 1.10,
 * given an RSA public key, accepts an HS256 token keyed with that key's
 * PEM text, and it accepts expired tokens.
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
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "jwk.h"
#include "jwt.h"
#include "../oracle/oracle.h"
#include "unit_file.h"

#define NOW     ((time_t)1700000000)
#define FAR     4102444800L
#define SECRET  "oracle-secret-0123456789abcdef-0123456789"
#define SECRET2 "oracle-secret-0123456789abcdef-0123456780"
#define NPAYLOADS 24

/* ---- keys --------------------------------------------------------------- */

static const char *const names[] = { "HS256", "HS384", "HS512", "RS256", "ES256" };

#define NALGS (sizeof(names) / sizeof(names[0]))

/* One pinned algorithm: its oracle, the same with a wrong key (another
 * secret, another key pair of the type) on both sides, and what they hold. */
struct side {
    struct oracle right, wrong;
    struct jwt_policy policy, wpolicy;
    struct jwt_keyset *keys, *wkeys;
    char *pub, *pub2;           /* PEM text (RS256, ES256) */
    char *priv_pem;             /* for libjwt's signer */
};

static struct side sides[NALGS];
static unsigned n_accept, n_reject;

/* Takes a key name under tests/unit/keys; returns its private key. */
static EVP_PKEY *
priv_key(const char *name, char **pem)
{
    char path[128];
    EVP_PKEY *k;
    BIO *b;

    snprintf(path, sizeof(path), "tests/unit/keys/%s.key", name);
    *pem = slurp(path);
    b = BIO_new_mem_buf(*pem, -1);
    assert_non_null(b);
    k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    assert_non_null(k);
    BIO_free(b);
    return k;
}

/* Fills side i for names[i]; key names k1 (right) and k2 (wrong) for the
 * key algorithms. */
static void
side_init(size_t i, const char *k1, const char *k2)
{
    struct side *s = &sides[i];
    char path[128], *pem2;

    memset(s, 0, sizeof(*s));
    assert_int_equal(jwt_algs_parse(names[i], &s->policy.algs, NULL), 0);
    s->policy.leeway = 30;
    s->wpolicy = s->policy;
    s->right.alg = s->wrong.alg = names[i];
    s->right.policy = &s->policy;
    s->wrong.policy = &s->wpolicy;
    if (k1 == NULL) {
        s->policy.secret = (const unsigned char *)SECRET;
        s->wpolicy.secret = (const unsigned char *)SECRET2;
        s->policy.secret_len = s->wpolicy.secret_len = strlen(SECRET);
        s->right.key = SECRET;
        s->wrong.key = SECRET2;
        s->right.keylen = s->wrong.keylen = strlen(SECRET);
        return;
    }
    snprintf(path, sizeof(path), "tests/unit/keys/%s.pub", k1);
    s->pub = slurp(path);
    snprintf(path, sizeof(path), "tests/unit/keys/%s.pub", k2);
    s->pub2 = slurp(path);
    s->keys = jwt_keyset_new();
    s->wkeys = jwt_keyset_new();
    assert_int_equal(jwt_keyset_add_pem(s->keys, s->pub, strlen(s->pub), NULL,
                                        NULL, 0), 0);
    assert_int_equal(jwt_keyset_add_pem(s->wkeys, s->pub2, strlen(s->pub2), NULL,
                                        NULL, 0), 0);
    s->policy.keys = s->keys;
    s->wpolicy.keys = s->wkeys;
    s->right.key = s->pub;
    s->right.keylen = strlen(s->pub);
    s->right.priv = priv_key(k1, &s->priv_pem);
    s->wrong.key = s->pub2;
    s->wrong.keylen = strlen(s->pub2);
    s->wrong.priv = priv_key(k2, &pem2);
    free(pem2);
}

static int
setup(void **state)
{
    (void)state;
    side_init(0, NULL, NULL);
    side_init(1, NULL, NULL);
    side_init(2, NULL, NULL);
    side_init(3, "rsa1", "rsa2");
    side_init(4, "ec1", "ec2");
    return 0;
}

static int
teardown(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NALGS; i++) {
        EVP_PKEY_free(sides[i].right.priv);
        EVP_PKEY_free(sides[i].wrong.priv);
        jwt_keyset_free(sides[i].keys);
        jwt_keyset_free(sides[i].wkeys);
        free(sides[i].pub);
        free(sides[i].pub2);
        free(sides[i].priv_pem);
    }
    return 0;
}

/* ---- tokens ------------------------------------------------------------- */

/* Takes header and payload JSON text; returns "b64(hdr).b64(pl)" (caller
 * frees). */
static char *
hp_of(const char *hdr, const char *pl)
{
    char *h = oracle_b64url(hdr, strlen(hdr)), *p = oracle_b64url(pl, strlen(pl));
    size_t n;
    char *t;

    assert_non_null(h);
    assert_non_null(p);
    n = strlen(h) + strlen(p) + 2;
    t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%s.%s", h, p);
    free(h);
    free(p);
    return t;
}

/* Takes "header.payload" and a signature of n bytes; returns the token
 * (caller frees). */
static char *
with_sig(const char *hp, const unsigned char *sig, size_t n)
{
    char *t = oracle_join(hp, strlen(hp), sig, n);

    assert_non_null(t);
    return t;
}

/* Takes an oracle and "header.payload"; returns o's signature over it
 * with its length in *n (caller frees). */
static unsigned char *
sign(const struct oracle *o, const char *hp, size_t *n)
{
    unsigned char *sig = oracle_sign(o, hp, strlen(hp), n);

    assert_non_null(sig);
    return sig;
}

/* Takes an oracle, a token (freed here), what both must say (1 accept,
 * 0 reject, -1 only that they agree) and a label; fails, naming the token,
 * when we and libjwt differ or both miss the expected verdict. */
static void
expect(const struct oracle *o, char *tok, int want, const char *what)
{
    int ours, theirs;

    assert_non_null(tok);
    ours = oracle_ours(o, tok, NOW);
    theirs = oracle_libjwt(o, tok);
    if (ours != theirs || (want >= 0 && ours != want))
        fail_msg("%s, %s: ours %d, libjwt %d, expected %d: %s", o->alg,
                 what, ours, theirs, want, tok);
    if (ours)
        n_accept++;
    else
        n_reject++;
    free(tok);
}

/* Takes a token; returns a copy of its first n characters. */
static char *
cut(const char *tok, size_t n)
{
    char *t = strndup(tok, n);

    assert_non_null(t);
    return t;
}

/* Takes payload number i and a buffer; writes claims that pass every
 * check of ours but the signature: subjects of growing length (so the
 * base64 tail shifts), now and then iat, jti, an audience list, non-ASCII
 * text, and every sixth an expiry already past (a good signature all the
 * same, which libjwt does not look at and we call JWT_EXPIRED). */
static void
payload(size_t i, char *buf, size_t cap)
{
    char sub[NPAYLOADS + 2];
    size_t k;

    for (k = 0; k <= i; k++)
        sub[k] = (char)('a' + (k * 7 + i) % 26);
    sub[k] = '\0';
    snprintf(buf, cap, "{\"sub\":\"%s%s\",\"exp\":%ld%s%s%s}", sub,
             i % 4 == 3 ? "-\\u00e9\xc3\xa9" : "",
             i % 6 == 5 ? (long)NOW - 3600 : FAR,
             i % 2 ? ",\"iat\":1699990000" : "",
             i % 3 == 1 ? ",\"jti\":\"j-1\",\"aud\":[\"a\",\"b\"]" : "",
             i % 5 == 4 ? ",\"role\":\"admin\",\"n\":[1,2.5,null,true]" : "");
}

/* ---- ES256 signatures in other shapes ------------------------------------ */

/* Takes a 64-byte r||s; writes r||(n - s), the other valid signature
 * ECDSA gives for the same message (neither side asks for low s). */
static void
es_high_s(const unsigned char *sig, unsigned char *out)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL), *t = BN_new();

    assert_non_null(g);
    assert_non_null(s);
    assert_non_null(t);
    assert_int_equal(BN_sub(t, EC_GROUP_get0_order(g), s), 1);
    memcpy(out, sig, 32);
    assert_int_equal(BN_bn2binpad(t, out + 32, 32), 32);
    BN_free(s);
    BN_free(t);
    EC_GROUP_free(g);
}

/* Takes a 64-byte r||s; returns its DER form (what OpenSSL signs, not
 * what JWS carries) with its length in *n (caller OPENSSL_free()s). */
static unsigned char *
es_der(const unsigned char *sig, size_t *n)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int len;

    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                                    BN_bin2bn(sig + 32, 32, NULL)), 1);
    len = i2d_ECDSA_SIG(es, &der);
    assert_true(len > 64);
    *n = (size_t)len;
    ECDSA_SIG_free(es);
    return der;
}

/* ---- the oracle --------------------------------------------------------- */

/* Takes side a, payload number i and a header with or without "typ"; puts
 * the good token and its doctored forms to both verifiers. */
static void
agree_on(size_t a, size_t i, int typ)
{
    const struct side *s = &sides[a];
    const struct oracle *o = &s->right;
    char hdr[64], pl[256], *hp, *tok, *t;
    unsigned char *sig, *bad;
    size_t n, j, k, d1, d2, len;

    snprintf(hdr, sizeof(hdr), typ ? "{\"alg\":\"%s\",\"typ\":\"JWT\"}" :
             "{\"alg\":\"%s\"}", names[a]);
    payload(i, pl, sizeof(pl));
    hp = hp_of(hdr, pl);
    sig = sign(o, hp, &n);
    tok = with_sig(hp, sig, n);
    len = strlen(tok);
    d1 = (size_t)(strchr(tok, '.') - tok);
    d2 = strlen(hp);
    bad = malloc(n + 1);
    assert_non_null(bad);

    expect(o, strdup(tok), 1, "good");
    /* Every bit position of the signature is flipped somewhere: every byte
     * of the first payload's, then a moving byte and both ends. */
    for (j = 0; j < n; j++) {
        if (i != 0 && j != i % n && j != 0 && j != n - 1)
            continue;
        memcpy(bad, sig, n);
        bad[j] ^= (unsigned char)(1u << ((j + i) % 8));
        expect(o, with_sig(hp, bad, n), 0, "bit flipped");
    }
    expect(o, with_sig(hp, sig, n - 1), 0, "last byte cut");
    expect(o, with_sig(hp, sig, n / 2), 0, "half cut");
    expect(o, with_sig(hp, sig, 0), 0, "empty");
    memcpy(bad, sig, n);
    bad[n] = 0;
    expect(o, with_sig(hp, bad, n + 1), 0, "a byte more");
    memset(bad, 0, n);
    expect(o, with_sig(hp, bad, n), 0, "zeros");
    free(bad);
    bad = sign(&s->wrong, hp, &k);
    expect(o, with_sig(hp, bad, k), 0, "wrong key");
    free(bad);

    /* The payload changed after signing: another subject, one character. */
    t = hp_of(hdr, "{\"sub\":\"mallory\",\"exp\":4102444800}");
    expect(o, with_sig(t, sig, n), 0, "payload swapped");
    free(t);
    t = strdup(tok);
    assert_non_null(t);
    k = d1 + 1 + i % (d2 - d1 - 1);
    t[k] = t[k] == 'A' ? 'B' : 'A';
    expect(o, t, 0, "payload edited");

    /* The header names another algorithm; the token under another pin. */
    for (k = 0; k < NALGS; k++) {
        if (k == a)
            continue;
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", names[k]);
        t = hp_of(hdr, pl);
        expect(o, with_sig(t, sig, n), 0, "relabelled");
        free(t);
        expect(&sides[k].right, strdup(tok), 0, "under another pin");
    }

    /* The text cut short. */
    expect(o, cut(tok, len - 1), 0, "text cut by one");
    expect(o, cut(tok, len - 2), 0, "text cut by two");
    expect(o, cut(tok, d2 + 1), 0, "no signature");
    expect(o, cut(tok, d2), 0, "two segments");
    expect(o, cut(tok, d1), 0, "one segment");

    if (strcmp(names[a], "ES256") == 0) {
        unsigned char other[64], *der;

        /* (r, n - s) verifies as well: both must say the same of it. */
        es_high_s(sig, other);
        expect(o, with_sig(hp, other, 64), -1, "ES256 high s");
        der = es_der(sig, &k);
        expect(o, with_sig(hp, der, k), 0, "ES256 as DER");
        OPENSSL_free(der);
        memcpy(other, sig, 64);
        memset(other, 0, 32);
        expect(o, with_sig(hp, other, 64), 0, "ES256 r = 0");
    }
    free(hp);
    free(sig);
    free(tok);
}

static void
test_agree(void **state)
{
    size_t a, i;

    (void)state;
    n_accept = n_reject = 0;
    for (a = 0; a < NALGS; a++)
        for (i = 0; i < NPAYLOADS; i++)
            agree_on(a, i, (int)(i % 2));
    print_message("libjwt and we agree on %u tokens: %u good, %u bad\n",
                  n_accept + n_reject, n_accept, n_reject);
    /* Both verdicts occur, in the numbers the cases above make. */
    assert_true(n_accept >= NALGS * NPAYLOADS);
    assert_true(n_reject > 10 * n_accept);
}

/* Tokens libjwt signs, and for HMAC ones jwt_mint() signs: each side
 * accepts the other's, and neither accepts them under a wrong key. */
static void
test_signed_elsewhere(void **state)
{
    struct json_object *claims;
    const struct side *s;
    const char *key;
    char sub[32], *t;
    size_t a, i, keylen;

    (void)state;
    for (a = 0; a < NALGS; a++) {
        s = &sides[a];
        key = s->priv_pem != NULL ? s->priv_pem : SECRET;
        keylen = strlen(key);
        for (i = 0; i < 8; i++) {
            snprintf(sub, sizeof(sub), "user-%zu-%.*s", i, (int)i, "xxxxxxxx");
            t = oracle_libjwt_mint(names[a], key, keylen, sub, FAR);
            assert_non_null(t);
            expect(&s->right, strdup(t), 1, "signed by libjwt");
            expect(&s->wrong, t, 0, "signed by libjwt, wrong key");
        }
        if (s->priv_pem != NULL)
            continue;
        claims = json_object_new_object();
        json_object_object_add(claims, "sub", json_object_new_string("minted"));
        json_object_object_add(claims, "exp", json_object_new_int64(FAR));
        t = jwt_mint((enum jwt_alg)s->policy.algs, (const unsigned char *)SECRET,
                     strlen(SECRET), claims);
        json_object_put(claims);
        expect(&s->right, strdup(t), 1, "signed by jwt_mint");
        expect(&s->wrong, t, 0, "signed by jwt_mint, wrong key");
    }
}

/* oracle_compare(), which the fuzzer trusts: what it calls a divergence,
 * and the differences it knows are not about signatures. */
static void
test_compare(void **state)
{
    const struct oracle *hs = &sides[0].right, *rs = &sides[3].right;
    struct oracle two = sides[4].right;
    struct jwt_policy p = sides[4].policy;
    struct jwt_keyset *both = jwt_keyset_new();
    unsigned char *sig;
    char *hp, *t, *u;
    size_t n;

    (void)state;
    hp = hp_of("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"a\",\"exp\":4102444800}");
    sig = sign(hs, hp, &n);
    t = with_sig(hp, sig, n);
    assert_int_equal(oracle_compare(hs, t, NOW), ORACLE_ACCEPT);
    t[strlen(t) - 2] ^= 1;
    assert_int_equal(oracle_compare(hs, t, NOW), ORACLE_REJECT);
    free(t);
    free(sig);
    free(hp);

    /* libjwt refuses any typ but "JWT"; we do not look at it. */
    hp = hp_of("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"sub\":\"a\",\"exp\":4102444800}");
    sig = sign(hs, hp, &n);
    t = with_sig(hp, sig, n);
    assert_int_equal(oracle_ours(hs, t, NOW), 1);
    assert_int_equal(oracle_libjwt(hs, t), 0);
    assert_int_equal(oracle_compare(hs, t, NOW), ORACLE_UNCOMPARED);
    free(t);
    free(sig);
    free(hp);

    /* libjwt reads algorithm names in any case; we do not. */
    hp = hp_of("{\"alg\":\"hs256\"}", "{\"sub\":\"a\",\"exp\":4102444800}");
    sig = sign(hs, hp, &n);
    t = with_sig(hp, sig, n);
    assert_int_equal(oracle_ours(hs, t, NOW), 0);
    assert_int_equal(oracle_libjwt(hs, t), 1);
    assert_int_equal(oracle_compare(hs, t, NOW), ORACLE_UNCOMPARED);
    free(t);
    free(sig);
    free(hp);

    /* libjwt takes a padded RS256 signature; we take one encoding only. */
    hp = hp_of("{\"alg\":\"RS256\"}", "{\"sub\":\"a\",\"exp\":4102444800}");
    sig = sign(rs, hp, &n);
    t = with_sig(hp, sig, n);
    u = malloc(strlen(t) + 3);
    assert_non_null(u);
    strcpy(u, t);
    strcat(u, "==");
    assert_int_equal(oracle_compare(rs, t, NOW), ORACLE_ACCEPT);
    assert_int_equal(oracle_ours(rs, u, NOW), 0);
    assert_int_equal(oracle_libjwt(rs, u), 1);
    assert_int_equal(oracle_compare(rs, u, NOW), ORACLE_UNCOMPARED);
    free(u);
    free(t);
    free(sig);
    free(hp);

    /* A verifier that also trusts a key libjwt was not given accepts a
     * token libjwt refuses, while both take the same header and payload
     * freshly signed with the shared key: that is a divergence. */
    assert_int_equal(jwt_keyset_add_pem(both, sides[4].pub, strlen(sides[4].pub),
                                        NULL, NULL, 0), 0);
    assert_int_equal(jwt_keyset_add_pem(both, sides[4].pub2, strlen(sides[4].pub2),
                                        NULL, NULL, 0), 0);
    p.keys = both;
    two.policy = &p;
    hp = hp_of("{\"alg\":\"ES256\"}", "{\"sub\":\"a\",\"exp\":4102444800}");
    sig = sign(&sides[4].wrong, hp, &n);
    t = with_sig(hp, sig, n);
    assert_int_equal(oracle_compare(&two, t, NOW), ORACLE_DIVERGE);
    assert_int_equal(oracle_compare(&sides[4].right, t, NOW), ORACLE_REJECT);
    free(t);
    free(sig);
    free(hp);
    jwt_keyset_free(both);
}

/* Why libjwt verifies nothing for the program.  Given an RSA public key,
 * as a caller expecting RS256 would give it, libjwt accepts an HS256 token
 * whose HMAC key is that public key's PEM text (anyone can read it, so
 * anyone can forge); and it accepts a token that expired in 1970.  Our
 * verifier refuses the first and calls the second expired. */
static void
test_not_delegated(void **state)
{
    const struct side *rs = &sides[3];
    struct jwt_policy p = rs->policy;
    struct jwt_identity id;
    const char *alg;
    char *forged, *old;
    long exp;

    (void)state;
    forged = oracle_libjwt_mint("HS256", rs->pub, strlen(rs->pub), "admin", FAR);
    assert_non_null(forged);
    assert_int_equal(oracle_libjwt_decode(forged, rs->pub, strlen(rs->pub), &alg,
                                          &exp), 0);
    assert_string_equal(alg, "HS256");
    /* Ours, configured as a deployment is (an HMAC secret and the RSA key,
     * both algorithms allowed), or with RS256 alone. */
    p.algs = JWT_HS256 | JWT_RS256;
    p.secret = (const unsigned char *)SECRET;
    p.secret_len = strlen(SECRET);
    assert_int_equal(jwt_verify(&p, forged, NOW, &id), JWT_INVALID);
    assert_int_equal(jwt_verify(&rs->policy, forged, NOW, &id), JWT_INVALID);
    /* Pinned, libjwt refuses it too: the pin is what makes it an oracle. */
    assert_int_equal(oracle_libjwt(&rs->right, forged), 0);
    free(forged);

    old = oracle_libjwt_mint("HS256", SECRET, strlen(SECRET), "alice", 1);
    assert_non_null(old);
    assert_int_equal(oracle_libjwt_decode(old, SECRET, strlen(SECRET), &alg, &exp), 0);
    assert_string_equal(alg, "HS256");
    assert_int_equal(exp, 1);
    assert_int_equal(jwt_verify(&sides[0].policy, old, time(NULL), &id), JWT_EXPIRED);
    free(old);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agree),
        cmocka_unit_test(test_signed_elsewhere),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_not_delegated),
    };

    return cmocka_run_group_tests_name("libjwt", tests, setup, teardown);
}
