/*
 * idem.c: checking an Idempotency-Key, and a request's fingerprint.
 */
#include "idem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "pool.h"
#include "utf8.h"

int idem_key_check(const char *key, json_object *errs)
{
    size_t n = strlen(key), i;
    const char *type, *msg;

    /* pydantic counts characters; bytes that are not UTF-8 count one each. */
    if (utf8_valid(key, n))
        n = utf8_len(key, n);
    if (n == 0) {
        type = "string_too_short";
        msg = "String should have at least 1 character";
    } else if (n > IDEM_KEY_MAX) {
        type = "string_too_long";
        msg = "String should have at most 255 characters";
    } else {
        for (i = 0; (unsigned char)key[i] > ' ' && (unsigned char)key[i] <= '~'; i++)
            ;
        if (key[i] == '\0')
            return 0;
        type = "string_pattern_mismatch";
        msg = "String should match pattern '^[!-~]+$'";
    }
    verr_add_str(errs, type, msg, key, "header", IDEM_HEADER);
    return 1;
}

void idem_fingerprint(const char *method, const char *path, const char *body,
                      size_t len, char out[IDEM_FINGERPRINT_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0, i;
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (c == NULL)
        die_oom();
    if (!EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(c, method, strlen(method) + 1) ||
        !EVP_DigestUpdate(c, path, strlen(path) + 1) ||
        !EVP_DigestUpdate(c, body, len) || !EVP_DigestFinal_ex(c, md, &n))
        n = 0;
    EVP_MD_CTX_free(c);
    for (i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * i] = '\0';
}
