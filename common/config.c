/*
 * config.c: environment variables and env files.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* A whole number from min to max in the variable name; 0, or -1 with err. */
static int env_long(const char *name, long min, long max, long *out,
                    char *err, size_t errlen)
{
    const char *v = env(name);
    char *end;
    long n;

    if (v == NULL)
        return 0;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        snprintf(err, errlen, "%s must be a whole number from %ld to %ld", name,
                 min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int config_load(struct config *c, int need_db, int need_secret,
                char *err, size_t errlen)
{
    const char *v, *t, *bad;
    long minutes, days;
    int on;

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
    c->public_key_file = env("JWT_PUBLIC_KEY_FILE");
    c->jwks_file = env("JWT_JWKS_FILE");
    c->jwks_table = JWKS_TABLE_AUTO;
    if ((t = env("JWT_JWKS_TABLE")) != NULL) {
        if (parse_bool(t, &on) == 0)
            c->jwks_table = on ? JWKS_TABLE_ON : JWKS_TABLE_OFF;
        else if (strcasecmp(t, "auto") != 0) {
            snprintf(err, errlen, "JWT_JWKS_TABLE must be auto, on or off");
            return -1;
        }
    }
    /* Something must be able to verify a token. */
    if (need_secret && v == NULL && c->public_key_file == NULL &&
        c->jwks_file == NULL && c->jwks_table != JWKS_TABLE_ON) {
        snprintf(err, errlen, "JWT_SECRET (or BETTER_AUTH_SECRET) is not set,"
                 " and no JWT_PUBLIC_KEY_FILE, JWT_JWKS_FILE or JWT_JWKS_TABLE=on");
        return -1;
    }
    if (v != NULL) {
        c->jwt.secret = (const unsigned char *)v;
        c->jwt.secret_len = strlen(v);
    }

    c->explicit_algs = (v = env("JWT_ALGORITHMS")) != NULL;
    if (v != NULL && jwt_algs_parse(v, &c->jwt.algs, &bad) != 0) {
        snprintf(err, errlen, "JWT_ALGORITHMS: unsupported algorithm in \"%s\"", v);
        return -1;
    }
    c->jwt.issuer = env("JWT_ISSUER");
    c->jwt.audience = env("JWT_AUDIENCE");
    c->jwt.user_claim = env("JWT_USER_CLAIM");
    if ((v = env("JWT_ROLE_CLAIM")) != NULL)
        c->jwt.role_claim = v;
    minutes = 15;
    days = 30;
    if (env_long("JWT_LEEWAY", 0, 86400, &c->jwt.leeway, err, errlen) != 0 ||
        env_long("ACCESS_TOKEN_EXPIRE_MINUTES", 1, 1440, &minutes, err, errlen) != 0 ||
        env_long("REFRESH_TOKEN_EXPIRE_DAYS", 1, 365, &days, err, errlen) != 0)
        return -1;
    c->request_timeout = 30;
    if (env_long("REQUEST_TIMEOUT", 1, 3600, &c->request_timeout, err, errlen) != 0)
        return -1;
    c->status_allow = env("STATUS_ALLOW");
    if (c->status_allow == NULL)
        c->status_allow = "127.0.0.0/8 ::1";
    c->jwks_reload = 60;
    if (env_long("JWT_JWKS_RELOAD_SECONDS", 1, 86400, &c->jwks_reload, err, errlen) != 0)
        return -1;
    c->access_ttl = minutes * 60;
    c->refresh_ttl = days * 86400;
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
