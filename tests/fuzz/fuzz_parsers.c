/*
 * fuzz_parsers.c: libFuzzer harness for every parser that sees client bytes.
 *
 * The first input byte picks the parser; the rest is what a client would
 * send: a request body (JSON syntax, json-c, the task contract), a query
 * string (or an Idempotency-Key), a bearer token, a timestamp, a path for
 * the router, a multipart form body (and the OAuth2 form read from it), or
 * a key set (JWKS text, PEM text) as an operator or Better Auth's table
 * provides.  Built and run by `make fuzz` (clang,
 * -fsanitize=fuzzer,address,undefined).
 *
 * Tokens also go to libjwt 1.10 (tests/oracle): a bearer token is checked
 * pinned to HS256, RS256 and ES256, and our signature verdict must be
 * libjwt's wherever both take its header and payload; selector 8 builds
 * tokens of each algorithm with a good signature and doctors one part
 * (signature bits, length, key, header, payload, text), and there the two
 * verdicts must simply be equal.  A divergence aborts.  The RS256 and
 * ES256 keys are tests/unit/keys/{rsa,ec}{1,2}.key, so run from the
 * repository root.  tests/fuzz/seeds holds good tokens to start from:
 * token-* were signed by PyJWT with FUZZ_SECRET, rsa1 and ec1 ({"sub":
 * "alice", "exp": 4102444800, "iss": "me", "aud": "todo"}), doctored-*
 * are selector 8 for each algorithm with nothing doctored.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "../oracle/oracle.h"
#include "../../common/account.h"
#include "../../common/form.h"
#include "../../common/idem.h"
#include "../../common/jwk.h"
#include "../../common/json.h"
#include "../../common/jwt.h"
#include "../../common/query.h"
#include "../../common/router.h"
#include "../../common/task.h"
#include "../../common/timestamp.h"

static int nop(struct req *r)
{
    (void)r;
    return 0;
}

static const struct route routes[] = {
    { "GET", "/api/{user}/tasks/{id}/complete", nop, AUTH_USER, BODY_NONE },
    { "PUT", "/api/{user}/tasks/{id}", nop, AUTH_USER, BODY_JSON },
    { "GET", "/api/health", nop, AUTH_NONE, BODY_NONE },
};

/* ---- libjwt as oracle ---------------------------------------------------- */

#define FUZZ_SECRET "0123456789abcdef0123456789abcdef"
#define FUZZ_NOW ((time_t)1800000000)

static const char *const onames[] = { "HS256", "HS384", "HS512", "RS256", "ES256" };

#define NORACLES 5

/* Each algorithm pinned, with the right key and with another one. */
static struct oracle right[NORACLES], wrong[NORACLES];
static struct jwt_policy opol[NORACLES], wpol[NORACLES];

/* Takes a key name under tests/unit/keys; returns its private key and
 * stores its public PEM text in *pub (both live as long as the process). */
static EVP_PKEY *
load_key(const char *name, char **pub)
{
    char path[64], *buf;
    EVP_PKEY *k = NULL;
    BIO *m = NULL;
    long n;
    FILE *f;

    snprintf(path, sizeof path, "tests/unit/keys/%s.key", name);
    if ((f = fopen(path, "r")) == NULL ||
        (k = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL ||
        (m = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(m, k) != 1 ||
        (n = BIO_get_mem_data(m, &buf)) <= 0 || (*pub = strndup(buf, (size_t)n)) == NULL) {
        fprintf(stderr, "fuzz: cannot read %s (run from the repository root)\n", path);
        abort();
    }
    fclose(f);
    BIO_free(m);
    return k;
}

/* Fills oracle i (and its wrong-key twin) for onames[i]; k1 and k2 name the
 * right and wrong key pairs of RS256 and ES256. */
static void
oracle_setup(int i, const char *k1, const char *k2)
{
    struct jwt_keyset *set;
    char *pub;

    jwt_algs_parse(onames[i], &opol[i].algs, NULL);
    opol[i].leeway = 30;
    wpol[i] = opol[i];
    right[i] = (struct oracle){ .alg = onames[i], .policy = &opol[i] };
    wrong[i] = (struct oracle){ .alg = onames[i], .policy = &wpol[i] };
    if (k1 == NULL) {
        opol[i].secret = (const unsigned char *)FUZZ_SECRET;
        wpol[i].secret = (const unsigned char *)"another-secret-0123456789abcdef!";
        opol[i].secret_len = wpol[i].secret_len = 32;
        right[i].key = opol[i].secret;
        wrong[i].key = wpol[i].secret;
        right[i].keylen = wrong[i].keylen = 32;
        return;
    }
    right[i].priv = load_key(k1, &pub);
    right[i].key = pub;
    right[i].keylen = strlen(pub);
    set = jwt_keyset_new();
    jwt_keyset_add_pem(set, pub, strlen(pub), NULL, NULL, 0);
    opol[i].keys = set;
    wrong[i].priv = load_key(k2, &pub);
    wrong[i].key = pub;
    wrong[i].keylen = strlen(pub);
    set = jwt_keyset_new();
    jwt_keyset_add_pem(set, pub, strlen(pub), NULL, NULL, 0);
    wpol[i].keys = set;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    oracle_setup(0, NULL, NULL);
    oracle_setup(1, NULL, NULL);
    oracle_setup(2, NULL, NULL);
    oracle_setup(3, "rsa1", "rsa2");
    oracle_setup(4, "ec1", "ec2");
    return 0;
}

/* Takes an oracle, a token, both verdicts and what was done to it; aborts
 * with the evidence when they differ. */
static void
diverged(const struct oracle *o, const char *tok, int ours, int theirs,
         const char *what)
{
    fprintf(stderr, "fuzz: libjwt and we differ on an %s token (%s): ours %d, "
            "libjwt %d: %s\n", o->alg, what, ours, theirs, tok);
    abort();
}

/* A bearer token as a client sends it, pinned to HS256, RS256, ES256. */
static void
token_oracle(const char *tok)
{
    static const int pins[] = { 0, 3, 4 };
    size_t i;

    for (i = 0; i < sizeof pins / sizeof pins[0]; i++)
        if (oracle_compare(&right[pins[i]], tok, FUZZ_NOW) == ORACLE_DIVERGE)
            diverged(&right[pins[i]], tok, oracle_ours(&right[pins[i]], tok, FUZZ_NOW),
                     oracle_libjwt(&right[pins[i]], tok), "as sent");
}

/* Takes a 64-byte ES256 r||s; replaces s by n - s, which verifies too. */
static void
es_high_s(unsigned char *sig)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);

    if (g == NULL || s == NULL || BN_sub(s, EC_GROUP_get0_order(g), s) != 1 ||
        BN_bn2binpad(s, sig + 32, 32) != 32)
        abort();
    BN_free(s);
    EC_GROUP_free(g);
}

/*
 * Selector 8: d[0] picks the algorithm (RS256 and ES256 1 in 8 each: libjwt
 * parses their PEM key at every check, about a millisecond under ASan, 100
 * times an HMAC), d[1] what to doctor, d[2..3] where, the rest the subject
 * (mapped to base64url characters, so the payload is always claims we
 * accept).  Every token here has a header and payload both sides take, so
 * the verdicts must be equal without further ado.
 */
static void
token_doctored(const uint8_t *d, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static const unsigned char pick[8] = { 0, 1, 2, 0, 1, 2, 3, 4 };
    char hdr[64], pl[400], sub[256], *h, *p, *hp, *tok;
    const struct oracle *o, *signer;
    unsigned char *sig = NULL;
    size_t i, siglen = 0, len, pos;
    unsigned a, what, at;
    int ours, theirs;

    if (n < 4)
        return;
    a = pick[d[0] % 8];
    what = d[1] % 10;
    at = (unsigned)d[2] | (unsigned)d[3] << 8;
    for (i = 0; i < n - 4 && i < sizeof sub - 1; i++)
        sub[i] = alphabet[d[4 + i] % 64];
    sub[i] = '\0';
    o = &right[a];
    signer = o;
    if (what == 7) {            /* HS256 keyed with a public key's PEM */
        signer = &(struct oracle){ .alg = "HS256", .key = right[3 + at % 2].key,
                                   .keylen = right[3 + at % 2].keylen };
        o = &right[3 + at % 2];
    }
    snprintf(hdr, sizeof hdr, at & 1 ? "{\"alg\":\"%s\"}" : "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
             what == 5 ? onames[(a + 1 + at % (NORACLES - 1)) % NORACLES] : signer->alg);
    snprintf(pl, sizeof pl, "{\"sub\":\"%s\",\"exp\":%ld}", i ? sub : "u",
             at & 2 ? (long)FUZZ_NOW - 60 : 4102444800L);
    if ((h = oracle_b64url(hdr, strlen(hdr))) == NULL ||
        (p = oracle_b64url(pl, strlen(pl))) == NULL ||
        (hp = malloc(strlen(h) + strlen(p) + 2)) == NULL)
        abort();
    sprintf(hp, "%s.%s", h, p);
    if (what == 5)              /* relabelled after signing */
        sig = oracle_sign(o, hp, strlen(hp), &siglen);
    else
        sig = oracle_sign(what == 4 ? &wrong[a] : signer, hp, strlen(hp), &siglen);
    if (sig == NULL || (sig = realloc(sig, siglen + 1)) == NULL)
        abort();
    switch (what) {
    case 1:
        sig[at % siglen] ^= (unsigned char)(1u << (at >> 12) % 8);
        break;
    case 2:
        siglen = at % siglen;
        break;
    case 3:
        sig[siglen++] = (unsigned char)(at >> 8);
        break;
    case 6:
        pos = strlen(h) + 1 + at % strlen(p);
        hp[pos] = hp[pos] == 'A' ? 'B' : 'A';
        break;
    case 8:
        if (a == 4)
            es_high_s(sig);
        else
            memset(sig, 0, siglen);
        break;
    }
    if ((tok = oracle_join(hp, strlen(hp), sig, siglen)) == NULL)
        abort();
    if (what == 9 && (len = strlen(tok)) > 0)
        tok[at % len] = '\0';
    ours = oracle_ours(o, tok, FUZZ_NOW);
    theirs = oracle_libjwt(o, tok);
    if (ours != theirs)
        diverged(o, tok, ours, theirs, "doctored");
    free(tok);
    free(sig);
    free(hp);
    free(h);
    free(p);
}

static void body(struct pool *p, const char *s, size_t n)
{
    json_object *o, *errs;
    struct task_patch pt;
    struct task base, t;
    size_t off;

    if (json_parse_body(p, s, n, &o, &off) != 0 || o == NULL)
        return;
    errs = verr_new();
    task_defaults(&base);
    if (task_read(p, o, TF_TITLE, &pt, errs) == 0)
        task_apply(&base, &pt, &t, errs);
    task_read_complete(p, o, &pt, errs);
    json_object_put(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct jwt_policy policy = {
        .algs = JWT_HS256 | JWT_HS512,
        .secret = (const unsigned char *)"0123456789abcdef0123456789abcdef",
        .secret_len = 32, .leeway = 30, .audience = "todo", .issuer = "me",
    };
    struct pool *p;
    struct task_query q;
    struct jwt_identity id;
    struct qparam *fields;
    json_object *errs;
    long n;
    const char *params[ROUTE_PARAMS_MAX];
    size_t lens[ROUTE_PARAMS_MAX];
    char *s, allow[64];
    int64_t us;
    int status, off;

    if (size < 1)
        return 0;
    p = pool_new();
    s = pool_strndup(p, (const char *)data + 1, size - 1);
    struct jwt_keyset *set;

    switch (data[0] % 9) {
    case 0:
        body(p, (const char *)data + 1, size - 1);
        break;
    case 1:
        errs = verr_new();
        task_query_parse(p, s, &q, errs);
        query_with_cursor(p, s, "Yz");
        idem_key_check(s, errs);
        json_object_put(errs);
        break;
    case 2:
        jwt_verify(&policy, s, 1800000000, &id);
        token_oracle(s);
        break;
    case 3:
        if (ts_parse_offset(s, &us, &off) == 0 && (off <= -86400 || off >= 86400))
            abort();            /* the column holds less than a day */
        break;
    case 4:
        set = jwt_keyset_new();
        jwt_keyset_add_jwks(set, s, size - 1, NULL, 0);
        jwt_keyset_free(set);
        break;
    case 5:
        set = jwt_keyset_new();
        jwt_keyset_add_pem(set, s, size - 1, NULL, NULL, 0);
        jwt_keyset_free(set);
        break;
    case 6:
        n = form_parse(p, "multipart/form-data; boundary=b", (const char *)data + 1,
                       size - 1, &fields);
        if (n >= 0) {
            struct input_src src = { "body", 1, NULL, fields, (size_t)n };
            struct credentials c;

            errs = verr_new();
            account_read(p, ACCOUNT_TOKEN, &src, &c, errs);
            json_object_put(errs);
        }
        break;
    case 8:
        token_doctored(data + 1, size - 1);
        break;
    default:
        router_match(routes, 3, "GET", s, params, lens, allow, sizeof allow, &status);
        break;
    }
    pool_free(p);
    return 0;
}
