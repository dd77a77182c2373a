/*
 * json.c: strict body parsing and FastAPI-shaped validation errors.
 */
#include "json.h"

#include <string.h>

#include "utf8.h"

static void put(void *o)
{
    json_object_put(o);
}

json_object *json_own(struct pool *p, json_object *o)
{
    return pool_defer(p, put, o);
}

/* ------------------------------------------------- RFC 8259 syntax */

/*
 * json-c accepts more than RFC 8259 even in strict mode (NaN, Infinity,
 * single-quoted strings, lone surrogates), so the body's syntax is checked
 * first by this small recursive-descent reader.  Each function takes the
 * text and a position, and returns the position after what it read, or
 * (size_t)-1 at the first error, with *err at its offset.
 */
#define BAD ((size_t)-1)
#define DEPTH_MAX 64

struct scan {
    const char *s;
    size_t n;
    size_t err;
    int nul;                    /* the last string held \u0000 */
    size_t nul_key;             /* 1 + where the first key holding it starts */
};

static size_t fail(struct scan *sc, size_t i)
{
    sc->err = i;
    return BAD;
}

static size_t ws(const struct scan *sc, size_t i)
{
    while (i < sc->n && (sc->s[i] == ' ' || sc->s[i] == '\t' ||
                         sc->s[i] == '\n' || sc->s[i] == '\r'))
        i++;
    return i;
}

static size_t digits(const struct scan *sc, size_t i)
{
    while (i < sc->n && sc->s[i] >= '0' && sc->s[i] <= '9')
        i++;
    return i;
}

static size_t number(struct scan *sc, size_t i)
{
    size_t j;

    if (i < sc->n && sc->s[i] == '-')
        i++;
    if (i < sc->n && sc->s[i] == '0')
        i++;
    else if ((j = digits(sc, i)) > i)
        i = j;
    else
        return fail(sc, i);
    if (i < sc->n && sc->s[i] == '.') {
        if ((j = digits(sc, i + 1)) == i + 1)
            return fail(sc, j);
        i = j;
    }
    if (i < sc->n && (sc->s[i] == 'e' || sc->s[i] == 'E')) {
        i++;
        if (i < sc->n && (sc->s[i] == '+' || sc->s[i] == '-'))
            i++;
        if ((j = digits(sc, i)) == i)
            return fail(sc, i);
        i = j;
    }
    return i;
}

/* Four hex digits at s[i]; the value, or -1. */
static long hex4(const struct scan *sc, size_t i)
{
    long v = 0;
    size_t k;
    int c;

    if (i + 4 > sc->n)
        return -1;
    for (k = 0; k < 4; k++) {
        c = (unsigned char)sc->s[i + k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (c | 0x20) - 'a' + 10;
        else
            return -1;
    }
    return v;
}

static size_t string(struct scan *sc, size_t i)
{
    long u, lo;

    for (i++; i < sc->n; i++) {
        unsigned char c = (unsigned char)sc->s[i];

        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return fail(sc, i);
        if (c != '\\')
            continue;
        if (++i >= sc->n)
            break;
        if (strchr("\"\\/bfnrt", sc->s[i]) != NULL && sc->s[i] != '\0')
            continue;
        if (sc->s[i] != 'u' || (u = hex4(sc, i + 1)) < 0)
            return fail(sc, i);
        i += 4;
        sc->nul |= u == 0;
        if (u >= 0xdc00 && u <= 0xdfff)
            return fail(sc, i);
        if (u >= 0xd800 && u <= 0xdbff) {
            /* A high surrogate must be followed by a low one. */
            if (i + 2 >= sc->n || sc->s[i + 1] != '\\' || sc->s[i + 2] != 'u' ||
                (lo = hex4(sc, i + 3)) < 0xdc00 || lo > 0xdfff)
                return fail(sc, i);
            i += 6;
        }
    }
    return fail(sc, i);
}

static size_t value(struct scan *sc, size_t i, int depth);

/* An object or array starting at s[i] (its opening bracket). */
static size_t container(struct scan *sc, size_t i, int depth)
{
    char close = sc->s[i] == '{' ? '}' : ']';

    if (depth >= DEPTH_MAX)
        return fail(sc, i);
    i = ws(sc, i + 1);
    if (i < sc->n && sc->s[i] == close)
        return i + 1;
    for (;;) {
        if (close == '}') {
            size_t key = i;

            sc->nul = 0;
            if (i >= sc->n || sc->s[i] != '"' || (i = string(sc, i)) == BAD)
                return i == BAD ? BAD : fail(sc, i);
            /* json-c would cut the key at the NUL: "title\u0000x" would
             * become "title". */
            if (sc->nul && sc->nul_key == 0)
                sc->nul_key = key + 1;
            i = ws(sc, i);
            if (i >= sc->n || sc->s[i] != ':')
                return fail(sc, i);
            i++;
        }
        if ((i = value(sc, i, depth + 1)) == BAD)
            return BAD;
        if (i < sc->n && sc->s[i] == ',') {
            i = ws(sc, i + 1);
            continue;
        }
        if (i < sc->n && sc->s[i] == close)
            return i + 1;
        return fail(sc, i);
    }
}

static size_t literal(struct scan *sc, size_t i, const char *word)
{
    size_t k = strlen(word);

    if (i + k > sc->n || memcmp(sc->s + i, word, k) != 0)
        return fail(sc, i);
    return i + k;
}

/* A value with the white space around it. */
static size_t value(struct scan *sc, size_t i, int depth)
{
    i = ws(sc, i);
    if (i >= sc->n)
        return fail(sc, i);
    switch (sc->s[i]) {
    case '{': case '[': i = container(sc, i, depth); break;
    case '"': i = string(sc, i); break;
    case 't': i = literal(sc, i, "true"); break;
    case 'f': i = literal(sc, i, "false"); break;
    case 'n': i = literal(sc, i, "null"); break;
    default: i = number(sc, i); break;
    }
    return i == BAD ? BAD : ws(sc, i);
}

static int scan_ok(struct scan *sc, size_t *offset)
{
    size_t end = value(sc, 0, 0);

    if (end == sc->n)
        return 1;
    *offset = end == BAD ? sc->err : end;
    return 0;
}

int json_syntax_ok(const char *s, size_t n, size_t *offset)
{
    struct scan sc = { s, n, 0, 0, 0 };

    return scan_ok(&sc, offset);
}

int json_parse_body(struct pool *p, const char *s, size_t n,
                    json_object **out, size_t *offset)
{
    json_tokener *tok;
    json_object *o;

    struct scan sc = { s, n, 0, 0, 0 };

    *out = NULL;
    *offset = 0;
    if (!utf8_valid(s, n) || !scan_ok(&sc, offset))
        return -1;
    if (sc.nul_key != 0) {
        *offset = sc.nul_key - 1;
        return 1;
    }
    /* The text is valid JSON, so json-c's reading of it is the one meant. */
    tok = json_tokener_new_ex(DEPTH_MAX + 1);
    if (tok == NULL)
        die_oom();
    o = json_tokener_parse_ex(tok, s, (int)n);
    /* A number at the very end waits for more: tell the tokener there is none. */
    if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
        o = json_tokener_parse_ex(tok, "", 1);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_tokener_free(tok);
        json_object_put(o);
        return -1;
    }
    json_tokener_free(tok);
    *out = json_own(p, o);
    return 0;
}

int json_read_body(struct pool *p, const char *s, size_t n, int required,
                   json_object **out, json_object **errs)
{
    size_t off = 0;
    int rc = 0;

    *out = NULL;
    *errs = NULL;
    if (n > 0)
        rc = json_parse_body(p, s, n, out, &off);
    if (rc < 0) {
        *errs = verr_new();
        verr_add(*errs, "json_invalid", "JSON decode error", NULL, "body", NULL,
                 (int)off);
        return 400;
    }
    if (rc > 0) {
        /* A key holding U+0000, as a string value holding it: 422. */
        *errs = verr_new();
        verr_add(*errs, "string_unicode",
                 "Input should be a valid string: an object key holds U+0000",
                 NULL, "body", NULL, -1);
        return 422;
    }
    if (*out == NULL && required) {
        *errs = verr_new();
        verr_add(*errs, "missing", "Field required", NULL, "body", NULL, -1);
        return 422;
    }
    return 0;
}

json_object *verr_new(void)
{
    return json_object_new_array();
}

static json_object *loc_new(const char *where, const char *field, int index)
{
    json_object *loc = json_object_new_array();

    json_object_array_add(loc, json_object_new_string(where));
    if (field != NULL)
        json_object_array_add(loc, json_object_new_string(field));
    if (index >= 0)
        json_object_array_add(loc, json_object_new_int(index));
    return loc;
}

void verr_add(json_object *errs, const char *type, const char *msg,
              json_object *input, const char *where, const char *field,
              int index)
{
    json_object *e = json_object_new_object();

    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_object_add(e, "loc", loc_new(where, field, index));
    json_object_object_add(e, "msg", json_object_new_string(msg));
    if (input != NULL)
        json_object_object_add(e, "input", json_object_get(input));
    json_object_array_add(errs, e);
}

void verr_add_str(json_object *errs, const char *type, const char *msg,
                  const char *input, const char *where, const char *field)
{
    /* Input that is not UTF-8 is not echoed: the answer must be UTF-8. */
    json_object *in = input && utf8_valid(input, strlen(input)) ?
                      json_object_new_string(input) : NULL;

    verr_add(errs, type, msg, in, where, field, -1);
    json_object_put(in);
}

json_object *verr_body(json_object *errs)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "detail", errs);
    return o;
}
