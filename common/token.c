/*
 * token.c: random base64url strings and SHA-256 digests.
 */
#include "token.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "jwt.h"

int token_random(char *out, size_t nbytes)
{
    unsigned char raw[64];

    if (nbytes > sizeof raw || getrandom(raw, nbytes, 0) != (ssize_t)nbytes)
        return -1;
    jwt_b64url_encode(raw, nbytes, out);
    return 0;
}

void token_hash(const char *token, char out[TOKEN_HASH_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0, i;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    for (i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * i] = '\0';
}
