/*
 * password.c: Argon2id hashing and verification.
 */
#include "password.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define SALT_LEN 16
#define HASH_LEN 32

int password_hash(const char *pw, size_t n, char out[PASSWORD_HASH_MAX])
{
    unsigned char salt[SALT_LEN];

    if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt)
        return -1;
    return argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_KIB, PASSWORD_P,
                                 pw, n, salt, sizeof salt, HASH_LEN, out,
                                 PASSWORD_HASH_MAX) == ARGON2_OK ? 0 : -1;
}

int password_verify(const char *encoded, const char *pw, size_t n)
{
    return argon2id_verify(encoded, pw, n) == ARGON2_OK;
}

int password_needs_rehash(const char *encoded)
{
    unsigned m, t, p;
    int v;

    if (sscanf(encoded, "$argon2id$v=%d$m=%u,t=%u,p=%u$", &v, &m, &t, &p) != 4)
        return 1;
    return v != ARGON2_VERSION_NUMBER || m != PASSWORD_M_KIB ||
           t != PASSWORD_T_COST || p != PASSWORD_P;
}

void password_burn(const char *pw, size_t n)
{
    static char dummy[PASSWORD_HASH_MAX];

    /* Made once per process, with today's parameters. */
    if (dummy[0] == '\0' && password_hash("not a password", 14, dummy) != 0)
        return;
    (void)password_verify(dummy, pw, n);
}
