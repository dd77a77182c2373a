/*
 * json.c: strict body parsing and FastAPI-shaped validation errors.
 */
#include "json.h"

#include "utf8.h"

static void put(void *o)
{
    json_object_put(o);
}

json_object *json_own(struct pool *p, json_object *o)
{
    return pool_defer(p, put, o);
}

json_object *json_parse_body(struct pool *p, const char *s, size_t n,
                             size_t *offset)
{
    json_tokener *tok;
    json_object *o = NULL;
    size_t end;

    *offset = 0;
    if (!utf8_valid(s, n))
        return NULL;
    tok = json_tokener_new();
    if (tok == NULL)
        die_oom();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, s, (int)n);
    end = json_tokener_get_parse_end(tok);
    if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
        *offset = end;
    } else {
        /* Only white space may follow the value. */
        while (end < n && (s[end] == ' ' || s[end] == '\t' || s[end] == '\n' ||
                           s[end] == '\r'))
            end++;
        if (end != n) {
            json_object_put(o);
            o = NULL;
            *offset = end;
        }
    }
    json_tokener_free(tok);
    return json_own(p, o);
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
    json_object *in = input ? json_object_new_string(input) : NULL;

    verr_add(errs, type, msg, in, where, field, -1);
    json_object_put(in);
}

json_object *verr_body(json_object *errs)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "detail", errs);
    return o;
}
