/*
 * log: one JSON line per event on stderr.
 *
 * Every line carries the time, the level and, while a request is being
 * served, its request id (log_request_id() sets it; NULL clears it).
 * Messages are short, lower case and never contain a token, password or
 * secret: callers pass what is safe.  log_access() writes the access line for
 * a finished request.
 */
#ifndef TODO_LOG_H
#define TODO_LOG_H

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

int log_level_parse(const char *s, enum log_level *out);   /* 0 / -1 */
void log_set_level(enum log_level min);
void log_request_id(const char *id);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)

void log_access(const char *method, const char *path, int status,
                double duration_ms, const char *user);

#endif
