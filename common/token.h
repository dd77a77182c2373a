/*
 * token: random opaque strings and their hashes, for ids, jti claims and
 * refresh tokens.
 *
 * token_random() writes nbytes of the kernel's randomness as unpadded
 * base64url (so 16 bytes make 22 characters, 32 make 43).  token_hash()
 * writes the hex SHA-256 of a token: refresh tokens are stored only so.
 */
#ifndef TODO_TOKEN_H
#define TODO_TOKEN_H

#include <stddef.h>

#define TOKEN_HASH_HEX 65           /* 64 hex digits and a NUL */
#define TOKEN_B64_LEN(n) (((n) * 4 + 2) / 3 + 1)

/* out has room for TOKEN_B64_LEN(nbytes); nbytes at most 64.  0 or -1. */
int token_random(char *out, size_t nbytes);
void token_hash(const char *token, char out[TOKEN_HASH_HEX]);

#endif
