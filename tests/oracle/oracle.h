/*
 * oracle: Debian's libjwt 1.10 as a second, independent opinion on JWT
 * signatures, for test_libjwt and the fuzzer.  The program never links
 * libjwt: it is no verifier (DESIGN.md, and test_libjwt shows why).
 *
 * A struct oracle pins one algorithm and holds its keys three ways: the
 * policy our jwt_verify() is given (allowing that algorithm only), the key
 * libjwt is given (the HMAC secret, or the public key's PEM text) and the
 * key that signs (the same secret, or the private key).  Each side
 * "accepts" a token whose signature is good: we when jwt_verify() says
 * JWT_OK or JWT_EXPIRED (libjwt reads no claims, so expiry is not part of
 * the verdict), libjwt when jwt_decode() returns 0 and jwt_get_alg() is the
 * pinned algorithm (libjwt itself takes the token's word for it).
 *
 * libjwt's <jwt.h> and ours both define enum jwt_alg, so libjwt is called
 * only from oracle_libjwt.c (built without -Icommon), and this header
 * speaks in algorithm names.  The caller owns the oracle's policy and keys;
 * every pointer returned is malloc'd and freed by the caller.
 */
#ifndef TODO_ORACLE_H
#define TODO_ORACLE_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

struct jwt_policy;

struct oracle {
    const char *alg;                    /* "HS256", "HS384", "HS512",
                                         * "RS256" or "ES256" */
    const struct jwt_policy *policy;    /* ours: alg alone allowed */
    const void *key;                    /* libjwt's: secret or public PEM */
    size_t keylen;
    EVP_PKEY *priv;                     /* signs RS256, ES256; HS* sign
                                         * with key */
};

enum oracle_verdict {
    ORACLE_ACCEPT,              /* both accept */
    ORACLE_REJECT,              /* both reject */
    ORACLE_UNCOMPARED,          /* they differ, but not on the signature:
                                 * one side refuses this header, payload or
                                 * signature encoding whatever it is signed
                                 * with */
    ORACLE_DIVERGE,             /* they differ on the signature */
};

/* Signs n bytes at msg as o->alg does (ES256 as JWS's 64-byte r||s);
 * returns the signature with its length in *siglen, or NULL. */
unsigned char *oracle_sign(const struct oracle *o, const void *msg, size_t n,
                           size_t *siglen);

/* Returns n bytes of hp ("header.payload"), a dot and sig in unpadded
 * base64url, as a NUL-terminated token, or NULL. */
char *oracle_join(const char *hp, size_t n, const unsigned char *sig,
                  size_t siglen);

/* Returns unpadded base64url of n bytes (OpenSSL's encoder, not ours), or
 * NULL. */
char *oracle_b64url(const void *in, size_t n);

/* Our verdict: 1 if jwt_verify() under o->policy at now says JWT_OK or
 * JWT_EXPIRED, else 0. */
int oracle_ours(const struct oracle *o, const char *token, time_t now);

/* libjwt's verdict: 1 if jwt_decode() with o->key accepts token and its
 * algorithm is o->alg, else 0. */
int oracle_libjwt(const struct oracle *o, const char *token);

/*
 * Puts token to both.  When they differ, the difference is on the
 * signature only if both accept the same header and payload signed
 * afresh with o's key, and the signature segment is the one canonical
 * unpadded base64url encoding (libjwt decodes RS256 and ES256 signatures
 * leniently; we do not, by design); else ORACLE_UNCOMPARED, except that
 * our accepting a non-canonical signature is ORACLE_DIVERGE.  A token we
 * refuse whose header does not name o->alg is ORACLE_UNCOMPARED without
 * asking libjwt: no signature could change our verdict.
 */
enum oracle_verdict oracle_compare(const struct oracle *o, const char *token,
                                   time_t now);

/* jwt_decode() with key as a caller that does not pin the algorithm uses
 * it: returns its result (0: accepted), and on 0 stores the token's
 * algorithm name in *alg and its "exp" claim (-1 if absent) in *exp. */
int oracle_libjwt_decode(const char *token, const void *key, size_t keylen,
                         const char **alg, long *exp);

/* A token libjwt signs (jwt_encode_str()) with alg and key (secret or
 * private PEM) for the claims {"sub": sub, "exp": exp}; NULL on error. */
char *oracle_libjwt_mint(const char *alg, const void *key, size_t keylen,
                         const char *sub, long exp);

#endif
