/*
 * config: the program's settings, read once from the environment at start.
 *
 * config_env_file() loads KEY=VALUE lines into the environment without
 * overriding what is already set (the environment wins).  config_load()
 * reads every variable, applies the defaults documented in README.md and
 * checks them; on a bad or missing setting it writes one line naming the
 * variable into err and returns -1.  The strings in struct config point into
 * the environment and live as long as the process.
 */
#ifndef TODO_CONFIG_H
#define TODO_CONFIG_H

#include <stddef.h>

#include "jwt.h"
#include "log.h"

#define CONFIG_SECRET_MIN 32

/* JWT_JWKS_TABLE: whether Better Auth's jwks table is read for keys (auto:
 * when it exists). */
enum jwks_table { JWKS_TABLE_OFF, JWKS_TABLE_AUTO, JWKS_TABLE_ON };

struct config {
    const char *database_url;   /* DATABASE_URL, required */
    struct jwt_policy jwt;      /* JWT_* and BETTER_AUTH_SECRET */
    int explicit_algs;          /* JWT_ALGORITHMS was set */
    const char *public_key_file;        /* JWT_PUBLIC_KEY_FILE */
    const char *jwks_file;              /* JWT_JWKS_FILE */
    enum jwks_table jwks_table;         /* JWT_JWKS_TABLE, default auto */
    long jwks_reload;           /* JWT_JWKS_RELOAD_SECONDS, default 60 */
    long access_ttl;            /* seconds: ACCESS_TOKEN_EXPIRE_MINUTES, 15 */
    long refresh_ttl;           /* seconds: REFRESH_TOKEN_EXPIRE_DAYS, 30 */
    int db_prepare;             /* DB_PREPARE, default on */
    long request_timeout;       /* REQUEST_TIMEOUT seconds, default 30 */
    const char *status_allow;   /* STATUS_ALLOW, default loopback */
    enum log_level log_level;   /* LOG_LEVEL, default info */
};

int config_env_file(const char *path, char *err, size_t errlen);
/* need_db / need_secret: whether DATABASE_URL / a secret are required. */
int config_load(struct config *c, int need_db, int need_secret,
                char *err, size_t errlen);

#endif
