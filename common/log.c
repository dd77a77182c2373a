/*
 * log.c: JSON lines on stderr, every string escaped and valid UTF-8.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timestamp.h"
#include "utf8.h"

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

/*
 * A line is written into a fixed buffer, then in one write.  Strings are
 * JSON-escaped as json-c escapes them, and a byte that is not part of
 * well-formed UTF-8 (a client's path, an e-mail) becomes U+FFFD, so every
 * line is JSON that any parser accepts.  A string that does not fit is cut
 * at a character boundary.
 */
struct line {
    char buf[4096];
    size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > sizeof l->buf - 2 - l->len)     /* room for "}\n" */
        n = sizeof l->buf - 2 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), k;
    char esc[8];
    unsigned char c;

    put(l, "\"", 1);
    while (n > 0 && l->len + 12 < sizeof l->buf) {
        c = (unsigned char)*s;
        if (c >= 0x80) {
            if ((k = utf8_seq(s, n)) == 0) {
                put(l, "\\ufffd", 6);
                k = 1;
            } else {
                put(l, s, k);
            }
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
            k = 1;
        } else if (c < 0x20) {
            k = 1;
            if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
                esc[0] = '\\';
                esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
                put(l, esc, 2);
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                put(l, esc, 6);
            }
        } else {
            put(l, s, 1);
            k = 1;
        }
        s += k;
        n -= k;
    }
    put(l, "\"", 1);
}

/* ,"name":"value" (value NULL: null) */
static void field(struct line *l, const char *name, const char *value)
{
    put(l, ",\"", 2);
    put(l, name, strlen(name));
    put(l, "\":", 2);
    if (value != NULL)
        put_str(l, value);
    else
        put(l, "null", 4);
}

/* Starts a line with time, level and request id; the caller adds fields. */
static void line_start(struct line *l, enum log_level lvl)
{
    char now[TS_BUFSZ];

    ts_format(ts_now(), now);
    l->len = 0;
    put(l, "{\"time\":", 8);
    put_str(l, now);
    field(l, "level", level_names[lvl]);
    if (request_id[0] != '\0')
        field(l, "request_id", request_id);
}

static void line_emit(struct line *l)
{
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    fwrite(l->buf, 1, l->len, stderr);
    fflush(stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    struct line l;
    char msg[1024];
    va_list ap;

    if (lvl < min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    line_start(&l, lvl);
    field(&l, "msg", msg);
    line_emit(&l);
}

void log_access(const char *method, const char *path, int status,
                double duration_ms, const char *user)
{
    struct line l;
    char num[64];

    if (LOGL_INFO < min_level)
        return;
    line_start(&l, LOGL_INFO);
    field(&l, "msg", "request");
    field(&l, "method", method);
    field(&l, "path", path);
    snprintf(num, sizeof num, ",\"status\":%d,\"duration_ms\":%.3f", status, duration_ms);
    put(&l, num, strlen(num));
    field(&l, "user", user && user[0] ? user : NULL);
    line_emit(&l);
}
