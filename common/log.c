/*
 * log.c: JSON lines on stderr, built with json-c so every string is escaped.
 */
#include "log.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timestamp.h"

static enum log_level min_level = LOGL_INFO;
static char request_id[129];

static const char *const level_names[] = {
    [LOGL_DEBUG] = "debug",
    [LOGL_INFO] = "info",
    [LOGL_WARN] = "warn",
    [LOGL_ERROR] = "error",
};

int log_level_parse(const char *s, enum log_level *out)
{
    size_t i;

    for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOGL_WARN;
        return 0;
    }
    return -1;
}

void log_set_level(enum log_level min)
{
    min_level = min;
}

void log_request_id(const char *id)
{
    snprintf(request_id, sizeof request_id, "%s", id ? id : "");
}

/* Starts a line with time, level and request id; the caller adds fields. */
static json_object *line_new(enum log_level lvl)
{
    char now[TS_BUFSZ];
    json_object *o = json_object_new_object();

    ts_format(ts_now(), now);
    json_object_object_add(o, "time", json_object_new_string(now));
    json_object_object_add(o, "level", json_object_new_string(level_names[lvl]));
    if (request_id[0] != '\0')
        json_object_object_add(o, "request_id",
                               json_object_new_string(request_id));
    return o;
}

static void line_emit(json_object *o)
{
    fprintf(stderr, "%s\n",
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stderr);
    json_object_put(o);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_object *o;

    if (lvl < min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o = line_new(lvl);
    json_object_object_add(o, "msg", json_object_new_string(msg));
    line_emit(o);
}

void log_access(const char *method, const char *path, int status,
                double duration_ms, const char *user)
{
    char ms[32];
    json_object *o;

    if (LOGL_INFO < min_level)
        return;
    o = line_new(LOGL_INFO);
    json_object_object_add(o, "msg", json_object_new_string("request"));
    json_object_object_add(o, "method", json_object_new_string(method));
    json_object_object_add(o, "path", json_object_new_string(path));
    json_object_object_add(o, "status", json_object_new_int(status));
    snprintf(ms, sizeof ms, "%.3f", duration_ms);
    json_object_object_add(o, "duration_ms", json_object_new_double_s(duration_ms, ms));
    json_object_object_add(o, "user",
                           user && user[0] ? json_object_new_string(user) : NULL);
    line_emit(o);
}
