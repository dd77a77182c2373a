/*
 * password: Argon2id password hashes, via libargon2.
 *
 * Hashes are stored as Argon2id encoded strings, which carry their own
 * parameters, so the parameters can be raised later: old hashes still
 * verify, and password_needs_rehash() says when one should be replaced at
 * the next successful login.  password_burn() spends the time of one
 * verification on nothing, so an unknown e-mail costs what a wrong password
 * does.  Nothing here allocates on the heap.
 */
#ifndef TODO_PASSWORD_H
#define TODO_PASSWORD_H

#include <stddef.h>

/* OWASP's minimum for Argon2id (2023): 19 MiB, 2 passes, 1 lane. */
#define PASSWORD_M_KIB 19456
#define PASSWORD_T_COST 2
#define PASSWORD_P 1
#define PASSWORD_HASH_MAX 128       /* room for an encoded hash */

/* Writes the encoded hash of pw[0..n) into out; 0, or -1. */
int password_hash(const char *pw, size_t n, char out[PASSWORD_HASH_MAX]);
/* 1 when pw matches the encoded hash, else 0 (also for a malformed hash). */
int password_verify(const char *encoded, const char *pw, size_t n);
/* 1 when encoded was made with other parameters than today's. */
int password_needs_rehash(const char *encoded);
void password_burn(const char *pw, size_t n);

#endif
