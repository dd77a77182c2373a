/*
 * unit_token.h: building and doctoring tokens in the JWT and JWK unit
 * tests.  Include it once, after cmocka.h, string.h, stdio.h, stdlib.h,
 * openssl/hmac.h and jwt.h.
 */
/* Takes n bytes; returns their unpadded base64url encoding (caller frees). */
static char *
b64url(const void *in, size_t n)
{
    char *out = malloc(n / 3 * 4 + 5);

    assert_non_null(out);
    jwt_b64url_encode(in, n, out);
    return out;
}

/* Takes a token; returns a copy with its payload replaced by pl and the
 * original header and signature kept (caller frees). */
static char *
swap_payload(const char *tok, const char *pl)
{
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char *p = b64url(pl, strlen(pl)), *t;
    size_t n = strlen(tok) + strlen(p) + 1;

    t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%.*s.%s%s", (int)(d1 - tok), tok, p, d2);
    free(p);
    return t;
}

/* Takes a JOSE header and a payload (JSON text), an HMAC digest and a key
 * of klen bytes; returns "b64(hdr).b64(pl).b64(HMAC)" (caller frees).  A
 * NULL md leaves the signature segment empty. */
static char *
hmac_token(const char *hdr, const char *pl, const EVP_MD *md, const void *key,
           size_t klen)
{
    unsigned char mac[EVP_MAX_MD_SIZE] = { 0 };
    unsigned maclen = 0;
    char *h = b64url(hdr, strlen(hdr)), *p = b64url(pl, strlen(pl)), *s, *t;
    size_t n = strlen(h) + strlen(p) + 2 + (EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1;

    t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%s.%s", h, p);
    if (md != NULL)
        assert_non_null(HMAC(md, key, (int)klen, (unsigned char *)t, strlen(t),
                             mac, &maclen));
    s = b64url(mac, maclen);
    strcat(t, ".");
    strcat(t, s);
    free(h);
    free(p);
    free(s);
    return t;
}
