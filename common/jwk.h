/*
 * jwk: the public keys that verify RS256, ES256 and EdDSA tokens.
 *
 * A struct jwt_keyset holds keys of three types, each usable for exactly
 * one algorithm: RSA (2048 to 8192 bits) for RS256, EC on P-256 for ES256,
 * Ed25519 for EdDSA.  A key may carry a kid.  Keys come from PEM text
 * (JWT_PUBLIC_KEY_FILE), from a JWKS or a single JWK (JWT_JWKS_FILE), or
 * from one JWK already parsed by json-c (a row of Better Auth's jwks table,
 * whose row id is the kid).
 *
 * The set owns its keys; jwt_keyset_free() releases them.  jwt_verify()
 * reads a set through struct jwt_policy's keys and never changes it, so a
 * caller that reloads keys builds a new set (jwt_keyset_dup() of the keys
 * from files, plus the table's), swaps the pointer and frees the old one.
 * Every jwt_keyset_add_*() is all or nothing: 0 with every usable key
 * added, or -1 with the set unchanged and one line in err (which may be
 * NULL) naming what is wrong.  Keys of a type or curve we do not verify
 * (kty "oct", crv "P-384", "X25519", ...), keys whose "use" is not "sig"
 * and keys whose "alg" is not their type's algorithm are skipped, not
 * errors: compare jwt_keyset_count() before and after to see what was
 * added.  A malformed key of a supported type is an error.
 */
#ifndef TODO_JWK_H
#define TODO_JWK_H

#include <stddef.h>

#include "jwt.h"

#define JWT_KID_MAX 255         /* longer kids are refused (keys) or never
                                 * match (tokens) */
#define JWT_SIG_MAX 1024        /* the largest signature: RSA-8192 */

struct json_object;
struct jwt_keyset;

/* Returns a new, empty set (the caller frees it); out of memory is fatal. */
struct jwt_keyset *jwt_keyset_new(void);

/* Returns a new set holding the same keys (shared, reference-counted) as
 * set (NULL: an empty set); the caller frees both independently. */
struct jwt_keyset *jwt_keyset_dup(const struct jwt_keyset *set);

/* Frees set and its keys; accepts NULL. */
void jwt_keyset_free(struct jwt_keyset *set);

/* Adds every public key in len bytes of PEM text: one or more
 * "-----BEGIN PUBLIC KEY-----" blocks (SubjectPublicKeyInfo; text between
 * blocks is ignored, any other block, a private key included, is an error).
 * Each must be RSA, EC P-256 or Ed25519; kid (NULL: none) is given to each. */
int jwt_keyset_add_pem(struct jwt_keyset *set, const char *pem, size_t len,
                       const char *kid, char *err, size_t errlen);

/* Adds the keys of len bytes of JSON text: a JWKS {"keys": [...]} or one JWK
 * object (RFC 7517/7518: RSA n, e; EC crv "P-256", x, y of 32 bytes each;
 * OKP crv "Ed25519", x of 32 bytes; all unpadded base64url; kid optional). */
int jwt_keyset_add_jwks(struct jwt_keyset *set, const char *json, size_t len,
                        char *err, size_t errlen);

/* Adds one JWK given as a json-c object (only read).  kid, when not NULL,
 * is the key's kid whatever the JWK says (Better Auth serves its keys as
 * {...publicKey, kid: row.id}); when NULL the JWK's own kid, if any. */
int jwt_keyset_add_jwk_json(struct jwt_keyset *set, struct json_object *jwk,
                            const char *kid, char *err, size_t errlen);

/* Returns the number of keys in set (0 for NULL). */
size_t jwt_keyset_count(const struct jwt_keyset *set);

/* Returns the enum jwt_alg bits the keys of set can verify (0 for NULL or
 * empty): the part of the default JWT_ALGORITHMS the keys contribute. */
unsigned jwt_keyset_algs(const struct jwt_keyset *set);

/* For jwt_verify(): checks sig (as decoded from the token; ES256 is JWS's
 * raw r||s) over msglen bytes of msg with the keys of set whose type
 * belongs to alg (RS256, ES256 or EdDSA; anything else is JWT_INVALID).
 * With kid (kidlen bytes, may hold anything) only keys with exactly that
 * kid are tried, and none of them existing gives JWT_UNKNOWN_KID; with
 * kid NULL every key of the type is tried.  Returns JWT_OK when one
 * verifies, else JWT_INVALID (also for a kid longer than JWT_KID_MAX, or an
 * ES256 signature that is not 64 bytes).  A NULL set is an empty one. */
enum jwt_status jwt_keyset_verify(const struct jwt_keyset *set,
                                  enum jwt_alg alg, const char *kid,
                                  size_t kidlen, const unsigned char *msg,
                                  size_t msglen, const unsigned char *sig,
                                  size_t siglen);

#endif
