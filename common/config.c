/*
 * config.c: environment variables and env files.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* getenv() that treats an empty value as unset. */
static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "1", "on", "true", "yes" };
    static const char *const no[] = { "0", "off", "false", "no" };
    size_t i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int config_env_file(const char *path, char *err, size_t errlen)
{
    char line[4096], *key, *val, *end;
    FILE *f = fopen(path, "r");
    int lineno = 0, rc = -1;

    if (f == NULL) {
        snprintf(err, errlen, "cannot read env file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        for (key = line; isspace((unsigned char)*key); key++)
            ;
        if (*key == '\0' || *key == '#')
            continue;
        if (strncmp(key, "export ", 7) == 0)
            key += 7;
        val = strchr(key, '=');
        if (val == NULL) {
            snprintf(err, errlen, "%s:%d: expected KEY=VALUE", path, lineno);
            goto out;
        }
        for (end = val; end > key && isspace((unsigned char)end[-1]); end--)
            ;
        *end = '\0';
        val++;
        end = val + strlen(val);
        if (end - val >= 2 && (*val == '"' || *val == '\'') && end[-1] == *val) {
            val++;
            end[-1] = '\0';
        }
        if (setenv(key, val, 0) != 0) {
            snprintf(err, errlen, "%s:%d: bad variable name", path, lineno);
            goto out;
        }
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

int config_load(struct config *c, int need_db, int need_secret,
                char *err, size_t errlen)
{
    const char *v, *bad;
    char *end;
    long n;

    memset(c, 0, sizeof *c);
    c->db_prepare = 1;
    c->log_level = LOGL_INFO;
    c->jwt.algs = JWT_HS256;
    c->jwt.leeway = 30;
    c->jwt.role_claim = "role";

    c->database_url = env("DATABASE_URL");
    if (need_db && c->database_url == NULL) {
        snprintf(err, errlen, "DATABASE_URL is not set");
        return -1;
    }

    v = env("JWT_SECRET");
    if (v == NULL)
        v = env("BETTER_AUTH_SECRET");
    if (v != NULL && strlen(v) < CONFIG_SECRET_MIN) {
        snprintf(err, errlen, "JWT_SECRET is shorter than %d bytes",
                 CONFIG_SECRET_MIN);
        return -1;
    }
    if (need_secret && v == NULL) {
        snprintf(err, errlen, "JWT_SECRET (or BETTER_AUTH_SECRET) is not set");
        return -1;
    }
    if (v != NULL) {
        c->jwt.secret = (const unsigned char *)v;
        c->jwt.secret_len = strlen(v);
    }

    if ((v = env("JWT_ALGORITHMS")) != NULL &&
        jwt_algs_parse(v, &c->jwt.algs, &bad) != 0) {
        snprintf(err, errlen, "JWT_ALGORITHMS: unsupported algorithm in \"%s\"", v);
        return -1;
    }
    c->jwt.issuer = env("JWT_ISSUER");
    c->jwt.audience = env("JWT_AUDIENCE");
    c->jwt.user_claim = env("JWT_USER_CLAIM");
    if ((v = env("JWT_ROLE_CLAIM")) != NULL)
        c->jwt.role_claim = v;
    if ((v = env("JWT_LEEWAY")) != NULL) {
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno != 0 || *end != '\0' || n < 0 || n > 86400) {
            snprintf(err, errlen, "JWT_LEEWAY must be 0 to 86400 seconds");
            return -1;
        }
        c->jwt.leeway = n;
    }
    if ((v = env("DB_PREPARE")) != NULL && parse_bool(v, &c->db_prepare) != 0) {
        snprintf(err, errlen, "DB_PREPARE must be on or off");
        return -1;
    }
    if ((v = env("LOG_LEVEL")) != NULL && log_level_parse(v, &c->log_level) != 0) {
        snprintf(err, errlen, "LOG_LEVEL must be debug, info, warn or error");
        return -1;
    }
    return 0;
}
