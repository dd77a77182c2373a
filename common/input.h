/*
 * input: client input declared as a table, and the one engine that reads it.
 *
 * An input (a task body, the account bodies, the OAuth2 form, the listing's
 * query string) is an array of struct input_field rows, as kcgi's kvalid
 * tables declare a form: name and alias, type, flags, limits.  input_read()
 * reads the rows from one source, a JSON object body or the name/value pairs
 * of a form or query string (struct qparam, url.h), into one struct
 * input_value per row, and appends FastAPI's validation error for each bad
 * value to errs, with loc [where, name] ([where, name, index] for a list's
 * item) and the value sent as input.  Nothing is coerced from JSON; a form
 * or query string is text, read as FastAPI reads it.
 *
 * From a JSON object, rows are read in table order; an alias counts only when
 * the name is absent (pydantic's AliasChoices), and an error names the key
 * sent.  From name/value pairs, each pair is read in the order sent (a row
 * read twice keeps its last good value, a list row adds to its list); a pair
 * of a known row that is not text (a NUL, bad UTF-8) is "string_unicode",
 * and unknown names are ignored.  An IN_LAST row is read once, after the pairs,
 * from its last value, as a JSON member is (a form's fields), and required
 * rows are "missing" then, unless a pair was not text.
 *
 * Rules that span fields, or need what the table cannot know (a cursor's
 * sort, a stored task), are small named checks in the module that owns the
 * input (task_apply(), the listing's cursor), run on the values this reads;
 * they report through verr_add() (json.h) like everything here.
 *
 * Strings in values point into the source (a pool-owned JSON value or pair)
 * or, when trimmed, into the pool: they live until pool_reset().
 */
#ifndef TODO_INPUT_H
#define TODO_INPUT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "url.h"
#include "pool.h"

enum input_type {
    IN_STRING,      /* text; min..max code points (after trimming) */
    IN_BOOL,        /* JSON true/false; from text, as pydantic reads one */
    IN_ENUM,        /* one of choices, exactly; i is its value */
    IN_INT,         /* a decimal integer, min..max (text only) */
    IN_TIME,        /* an RFC 3339 date-time: i microseconds UTC, off seconds */
    IN_LIST,        /* strings, each an IN_STRING of min..max; at most items */
};

enum input_flag {
    IN_REQUIRED = 1 << 0,   /* absent: "missing" */
    IN_NULLABLE = 1 << 1,   /* JSON null is a value (IN_NULL), not an error */
    IN_TRIM = 1 << 2,       /* Unicode white space trimmed before counting */
    IN_BLANK_NULL = 1 << 3, /* a string empty after trimming is null */
    IN_SECRET = 1 << 4,     /* a length error does not echo the input */
    IN_LAST = 1 << 5,       /* name/value pairs: the last one, read after */
    IN_UNIQUE = 1 << 6,     /* a list drops repeated items */
    IN_SPLIT = 1 << 7,      /* a list sent as text: items split at ',' */
};

/* One value of an IN_ENUM; a table of them ends with a NULL name. */
struct input_choice {
    const char *name;
    int value;
};

/* A rule a string must also meet, and the error it fails with. */
struct input_rule {
    int (*ok)(const char *s, size_t n);
    const char *type;
    const char *msg;
};

struct input_field {
    const char *name;
    const char *alias;                  /* NULL: none */
    enum input_type type;
    unsigned flags;                     /* enum input_flag bits */
    int64_t min, max;                   /* IN_STRING, IN_LIST items, IN_INT */
    size_t items;                       /* IN_LIST: at most; 0: any number */
    const struct input_choice *choices; /* IN_ENUM */
    const struct input_rule *rule;      /* IN_STRING: NULL: none */
};

enum input_state {
    IN_ABSENT,      /* not sent */
    IN_NULL,        /* JSON null (IN_NULLABLE), or blank (IN_BLANK_NULL) */
    IN_SET,         /* a valid value */
    IN_BAD,         /* sent, and refused: its error is in errs */
};

struct input_value {
    enum input_state state;
    const char *key;        /* the name it was sent under (name or alias) */
    const char *s;          /* IN_STRING: NUL-terminated */
    size_t len;             /* its bytes */
    int64_t i;              /* IN_BOOL, IN_ENUM, IN_INT, IN_TIME */
    int off;                /* IN_TIME: the UTC offset it was written with */
    const char **list;      /* IN_LIST: n items */
    size_t n;
};

/* Where input comes from: a JSON value, or the pairs of a form or query. */
struct input_src {
    const char *where;              /* the loc's first item: "body", "query" */
    int pairs;                      /* 1: params, nparams; 0: json */
    json_object *json;
    const struct qparam *params;
    size_t nparams;
};

/* A source of the pairs of a query string or form body raw (http.h's
 * url_query_split: decoded, in the pool). */
void input_src_query(struct pool *p, const char *where, const char *raw,
                     struct input_src *src);

/*
 * Reads the n rows of fields from src into out[0..n) (zeroed first).
 * Returns the number of errors added to errs; a JSON source that is not an
 * object is one ("model_attributes_type" at [where]), and then nothing is
 * read.
 */
int input_read(struct pool *p, const struct input_field *fields, size_t n,
               const struct input_src *src, struct input_value *out,
               json_object *errs);

#endif
