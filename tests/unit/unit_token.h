/*
 * unit_token.h: building and doctoring tokens in the JWT and JWK unit
 * tests.  Include it once, after cmocka.h, string.h, stdio.h, stdlib.h
 * and jwt.h.
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
