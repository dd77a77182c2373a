/*
 * input.c: the engine that reads a declared input, see input.h.  The
 * messages are pydantic's, so a 422 reads as FastAPI's would.
 */
#include "input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "timestamp.h"
#include "utf8.h"

/* One reading: the pool, the source and where errors go. */
struct reader {
    struct pool *p;
    const struct input_src *src;
    json_object *errs;
};

/* One value as sent: a JSON value (NULL: null) or text, under key. */
struct datum {
    const char *key;
    int index;                  /* a JSON list item's; -1 for a field */
    json_object *v;
    const char *text;           /* NULL: from JSON */
    size_t pair;                /* text: the pair's place in the source */
};

/* As pydantic reads a boolean from text (any case). */
static const struct input_choice text_booleans[] = {
    { "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 }, { "yes", 1 },
    { "no", 0 }, { "on", 1 }, { "off", 0 }, { "t", 1 }, { "f", 0 },
    { "y", 1 }, { "n", 0 }, { NULL, 0 },
};

/* Appends d's error; echo: with the value sent as input. */
static void bad(struct reader *rd, const struct datum *d, const char *type,
                const char *msg, int echo)
{
    if (d->text != NULL)
        verr_add_str(rd->errs, type, msg, echo ? d->text : NULL, rd->src->where, d->key);
    else
        verr_add(rd->errs, type, msg, echo ? d->v : NULL, rd->src->where, d->key,
                 d->index);
}

/*
 * A string of min..max code points (after trimming) that keeps f's rule:
 * 0 with *out and *len set, or -1 after d's error (*out and *len as they
 * were).  From JSON it must be a string without U+0000.  A trimmed string
 * is copied into the pool; any other is the one sent.
 */
static int read_string(struct reader *rd, const struct input_field *f,
                       const struct datum *d, const char **out, size_t *len)
{
    const char *s;
    size_t n, start = 0, kept, cps;
    char msg[80];

    if (d->text != NULL) {
        s = d->text;
        n = strlen(s);
    } else if (!json_object_is_type(d->v, json_type_string)) {
        bad(rd, d, "string_type", "Input should be a valid string", 1);
        return -1;
    } else {
        s = json_object_get_string(d->v);
        n = (size_t)json_object_get_string_len(d->v);
        if (memchr(s, '\0', n) != NULL) {
            bad(rd, d, "string_pattern_mismatch", "String should not contain U+0000", 1);
            return -1;
        }
    }
    kept = n;
    if (f->flags & IN_TRIM)
        utf8_trim(s, n, &start, &kept);
    cps = utf8_len(s + start, kept);
    if ((int64_t)cps < f->min) {
        snprintf(msg, sizeof msg, "String should have at least %" PRId64 " character%s",
                 f->min, f->min == 1 ? "" : "s");
        bad(rd, d, "string_too_short", msg, !(f->flags & IN_SECRET));
        return -1;
    }
    if ((int64_t)cps > f->max) {
        snprintf(msg, sizeof msg, "String should have at most %" PRId64 " characters", f->max);
        bad(rd, d, "string_too_long", msg, !(f->flags & IN_SECRET));
        return -1;
    }
    if (f->rule != NULL && !f->rule->ok(s + start, kept)) {
        bad(rd, d, f->rule->type, f->rule->msg, 1);
        return -1;
    }
    *out = kept == n ? s : pool_strndup(rd->p, s + start, kept);
    *len = kept;
    return 0;
}

/* The value of name among choices: 0, or -1 when it is none of them. */
static int choose(const struct input_choice *c, const char *name, int icase, int64_t *out)
{
    for (; c->name != NULL; c++) {
        if ((icase ? strcasecmp(c->name, name) : strcmp(c->name, name)) == 0) {
            *out = c->value;
            return 0;
        }
    }
    return -1;
}

/* "Input should be 'a', 'b' or 'c'" (", 'c' or null" when f is nullable). */
static void enum_error(struct reader *rd, const struct input_field *f,
                       const struct datum *d)
{
    int nullable = (f->flags & IN_NULLABLE) != 0;
    const struct input_choice *c;
    char msg[256] = "Input should be ";
    size_t used;

    for (c = f->choices; c->name != NULL; c++) {
        used = strlen(msg);
        snprintf(msg + used, sizeof msg - used, "%s'%s'",
                 c == f->choices ? "" : (c[1].name || nullable) ? ", " : " or ", c->name);
    }
    if (nullable) {
        used = strlen(msg);
        snprintf(msg + used, sizeof msg - used, " or null");
    }
    bad(rd, d, "enum", msg, 1);
}

/* An integer of f's range from text (or a JSON integer); 0, or -1. */
static int read_int(struct reader *rd, const struct input_field *f,
                    const struct datum *d, int64_t *out)
{
    const char *s = d->text, *type = "greater_than_equal";
    char msg[80], *end;
    long long v;
    int erange;

    if (s == NULL && !json_object_is_type(d->v, json_type_int)) {
        bad(rd, d, "int_type", "Input should be a valid integer", 1);
        return -1;
    }
    errno = 0;
    v = s != NULL ? strtoll(s, &end, 10) : json_object_get_int64(d->v);
    erange = s != NULL && errno == ERANGE;
    if (s != NULL && (s[0] == '\0' || *end != '\0' || s[0] == ' ')) {
        bad(rd, d, "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer", 1);
        return -1;
    }
    if (v >= f->min && v <= f->max && !erange) {
        *out = v;
        return 0;
    }
    /* Past either bound, the sign says which. */
    if ((v < f->min && !erange) || (s != NULL && s[0] == '-'))
        snprintf(msg, sizeof msg, "Input should be greater than or equal to %" PRId64, f->min);
    else {
        type = "less_than_equal";
        snprintf(msg, sizeof msg, "Input should be less than or equal to %" PRId64, f->max);
    }
    bad(rd, d, type, msg, 1);
    return -1;
}

/* A date-time: from JSON, a string; 0, or -1 after its error. */
static int read_time(struct reader *rd, const struct datum *d, struct input_value *out)
{
    const char *s = d->text;

    if (s == NULL) {
        if (!json_object_is_type(d->v, json_type_string)) {
            bad(rd, d, "datetime_type", "Input should be a valid datetime", 1);
            return -1;
        }
        s = json_object_get_string(d->v);
        if (strlen(s) != (size_t)json_object_get_string_len(d->v))
            s = "";             /* holds U+0000: no date-time */
    }
    if (ts_parse_offset(s, &out->i, &out->off) != 0) {
        bad(rd, d, "datetime_parsing",
            "Input should be a valid datetime in RFC 3339 format", 1);
        return -1;
    }
    return 0;
}

/* A JSON array of strings; -1 after the errors of the array or its items. */
static int read_list(struct reader *rd, const struct input_field *f,
                     const struct datum *d, struct input_value *out)
{
    struct datum item = { d->key, 0, NULL, NULL, 0 };
    const char *s;
    size_t n, i, j, len;
    char msg[80];
    int rc = 0;

    if (!json_object_is_type(d->v, json_type_array)) {
        bad(rd, d, "list_type", "Input should be a valid list", 1);
        return -1;
    }
    n = json_object_array_length(d->v);
    if (f->items > 0 && n > f->items) {
        snprintf(msg, sizeof msg, "List should have at most %zu items after validation",
                 f->items);
        bad(rd, d, "too_long", msg, 1);
        return -1;
    }
    out->list = pool_alloc(rd->p, (n ? n : 1) * sizeof *out->list);
    out->n = 0;
    for (i = 0; i < n; i++) {
        item.index = (int)i;
        item.v = json_object_array_get_idx(d->v, i);
        if (read_string(rd, f, &item, &s, &len) != 0) {
            rc = -1;
            continue;
        }
        for (j = 0; (f->flags & IN_UNIQUE) && j < out->n; j++)
            if (strcmp(out->list[j], s) == 0)
                break;
        if (!(f->flags & IN_UNIQUE) || j == out->n)
            out->list[out->n++] = s;
    }
    return rc;
}

/*
 * Adds the items of a list sent as text (split at ',' when f says so,
 * trimmed, empty ones dropped) to out, whose room is for every item the
 * pairs from the first one it came in could hold.
 */
static void add_text_items(struct reader *rd, const struct input_field *f,
                           size_t first, const char *s, struct input_value *out)
{
    size_t n, start, len, i, room;

    if (out->list == NULL) {
        for (room = 0, i = first; i < rd->src->nparams; i++)
            for (n = 0, room++; (f->flags & IN_SPLIT) && rd->src->params[i].value[n]; n++)
                room += rd->src->params[i].value[n] == ',';
        out->list = pool_alloc(rd->p, room * sizeof *out->list);
    }
    for (;;) {
        n = (f->flags & IN_SPLIT) ? strcspn(s, ",") : strlen(s);
        start = 0;
        len = n;
        if (f->flags & IN_TRIM)
            utf8_trim(s, n, &start, &len);
        if (len > 0)
            out->list[out->n++] = pool_strndup(rd->p, s + start, len);
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
}

/* Reads d as f's type into out (state IN_SET, IN_NULL or IN_BAD). */
static void read_value(struct reader *rd, const struct input_field *f,
                       const struct datum *d, struct input_value *out)
{
    int rc = -1;

    out->key = d->key;
    if (d->text == NULL && d->v == NULL && (f->flags & IN_NULLABLE)) {
        out->state = IN_NULL;
        return;
    }
    switch (f->type) {
    case IN_STRING:
        rc = read_string(rd, f, d, &out->s, &out->len);
        if (rc == 0 && out->len == 0 && (f->flags & IN_BLANK_NULL)) {
            out->state = IN_NULL;
            return;
        }
        break;
    case IN_BOOL:
        if (d->text != NULL) {
            if ((rc = choose(text_booleans, d->text, 1, &out->i)) != 0)
                bad(rd, d, "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input", 1);
        } else if (json_object_is_type(d->v, json_type_boolean)) {
            out->i = json_object_get_boolean(d->v);
            rc = 0;
        } else {
            bad(rd, d, "bool_type", "Input should be a valid boolean", 1);
        }
        break;
    case IN_ENUM:
        if (d->text != NULL)
            rc = choose(f->choices, d->text, 0, &out->i);
        else if (json_object_is_type(d->v, json_type_string))
            rc = choose(f->choices, json_object_get_string(d->v), 0, &out->i);
        if (rc != 0)
            enum_error(rd, f, d);
        break;
    case IN_INT:
        rc = read_int(rd, f, d, &out->i);
        break;
    case IN_TIME:
        rc = read_time(rd, d, out);
        break;
    case IN_LIST:
        if (d->text == NULL) {
            rc = read_list(rd, f, d, out);
        } else {
            add_text_items(rd, f, d->pair, d->text, out);
            rc = 0;
        }
        break;
    }
    /* A bad value sent after a good one leaves the good one (and its
     * error): what a later pair sends does not undo an earlier one. */
    if (rc == 0)
        out->state = IN_SET;
    else if (out->state != IN_SET)
        out->state = IN_BAD;
}

/* The row named (or aliased) name, or -1. */
static long find(const struct input_field *fields, size_t n, const char *name)
{
    size_t k;

    for (k = 0; k < n; k++)
        if (strcmp(fields[k].name, name) == 0 ||
            (fields[k].alias != NULL && strcmp(fields[k].alias, name) == 0))
            return (long)k;
    return -1;
}

static void missing(struct reader *rd, const struct input_field *f)
{
    verr_add(rd->errs, "missing", "Field required", NULL, rd->src->where, f->name, -1);
}

static void read_json(struct reader *rd, const struct input_field *fields, size_t n,
                      struct input_value *out)
{
    json_object *o = rd->src->json;
    struct datum d = { NULL, -1, NULL, NULL, 0 };
    size_t k;

    for (k = 0; k < n; k++) {
        d.key = fields[k].name;
        if (!json_object_object_get_ex(o, d.key, &d.v)) {
            d.key = fields[k].alias;
            if (d.key == NULL || !json_object_object_get_ex(o, d.key, &d.v)) {
                if (fields[k].flags & IN_REQUIRED)
                    missing(rd, &fields[k]);
                continue;
            }
        }
        read_value(rd, &fields[k], &d, &out[k]);
    }
}

static void read_pairs(struct reader *rd, const struct input_field *fields, size_t n,
                       struct input_value *out)
{
    const struct qparam *q = rd->src->params;
    struct datum d = { NULL, -1, NULL, NULL, 0 };
    int unreadable = 0;
    size_t i, k;
    long row;

    for (i = 0; i < rd->src->nparams; i++) {
        if ((row = find(fields, n, q[i].name)) < 0)
            continue;           /* unknown names are ignored */
        d.key = q[i].name;
        d.text = q[i].value;
        d.pair = i;
        if (q[i].nul || !utf8_valid(d.text, strlen(d.text))) {
            verr_add_str(rd->errs, "string_unicode", "Input should be a valid string",
                         NULL, rd->src->where, d.key);
            unreadable = 1;
        } else if (fields[row].flags & IN_LAST) {
            out[row].key = d.key;       /* read below */
            out[row].s = d.text;
        } else {
            read_value(rd, &fields[row], &d, &out[row]);
        }
    }
    /* A field that is not text is not also "missing". */
    for (k = 0; k < n && !unreadable; k++) {
        d.key = out[k].key;
        d.text = out[k].s;
        if ((fields[k].flags & IN_LAST) && d.key != NULL)
            read_value(rd, &fields[k], &d, &out[k]);
        else if ((fields[k].flags & IN_REQUIRED) && out[k].state == IN_ABSENT)
            missing(rd, &fields[k]);
    }
}

void input_src_query(struct pool *p, const char *where, const char *raw,
                     struct input_src *src)
{
    struct qparam *params;

    src->where = where;
    src->pairs = 1;
    src->json = NULL;
    src->nparams = url_query_split(p, raw, &params);
    src->params = params;
}

int input_read(struct pool *p, const struct input_field *fields, size_t n,
               const struct input_src *src, struct input_value *out,
               json_object *errs)
{
    struct reader rd = { p, src, errs };
    size_t before = json_object_array_length(errs);

    memset(out, 0, n * sizeof *out);
    if (!src->pairs && !json_object_is_type(src->json, json_type_object)) {
        verr_add(errs, "model_attributes_type",
                 "Input should be a valid dictionary or object to extract fields from",
                 src->json, src->where, NULL, -1);
        return 1;
    }
    if (!src->pairs)
        read_json(&rd, fields, n, out);
    else
        read_pairs(&rd, fields, n, out);
    return (int)(json_object_array_length(errs) - before);
}
