/*
 * log.c: JSON lines on stderr, every string escaped and valid UTF-8.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
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

/* Each line is built in a pool of the log's own, rewound after the line:
 * its first chunk is kept, so a line costs no malloc. */
static struct pool *line_pool;

/* ,"name":"value" (value NULL: null); a value may come from a client. */
static void field(struct buf *l, const char *name, const char *value)
{
    buf_putc(l, ',');
    buf_json_str(l, name);
    buf_putc(l, ':');
    if (value != NULL)
        buf_json_text(l, value);
    else
        buf_json_null(l);
}

/* Starts a line with time, level and request id; the caller adds fields. */
static struct buf *line_start(enum log_level lvl)
{
    char now[TS_BUFSZ];
    struct buf *l;

    if (line_pool == NULL)
        line_pool = pool_new();
    l = buf_new(line_pool, 512);
    ts_format(ts_now(), now);
    buf_puts(l, "{\"time\":");
    buf_json_str(l, now);
    field(l, "level", level_names[lvl]);
    if (request_id[0] != '\0')
        field(l, "request_id", request_id);
    return l;
}

static void line_emit(struct buf *l)
{
    buf_put(l, "}\n", 2);
    fwrite(l->data, 1, l->len, stderr);
    fflush(stderr);
    pool_reset(line_pool);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    struct buf *l;
    char msg[1024];
    va_list ap;

    if (lvl < min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l = line_start(lvl);
    field(l, "msg", msg);
    line_emit(l);
}

void log_access(const char *method, const char *path, int status,
                double duration_ms, const char *user)
{
    struct buf *l;

    if (LOGL_INFO < min_level)
        return;
    l = line_start(LOGL_INFO);
    field(l, "msg", "request");
    field(l, "method", method);
    field(l, "path", path);
    buf_printf(l, ",\"status\":%d,\"duration_ms\":%.3f", status, duration_ms);
    field(l, "user", user && user[0] ? user : NULL);
    line_emit(l);
}
