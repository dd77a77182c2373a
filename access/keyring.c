/*
 * keyring.c: key files, Better Auth's jwks table, and the default allow-list.
 */
#include "keyring.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/db_auth.h"
#include "../common/file.h"
#include "../common/jwk.h"
#include "../common/log.h"
#include "../common/timestamp.h"

/* A token naming a kid no key has makes the table be read again at once,
 * but not more often than this: a burst of made-up kids costs a worker at
 * most one query a second. */
#define UNKNOWN_KID_REREAD_MS 1000

struct keyring {
    struct jwt_policy *policy;
    enum jwks_table table;
    long reload_seconds;
    struct jwt_keyset *files;   /* keys from files, never changed */
    struct jwt_keyset *current; /* files + table: what policy points at */
    int loaded;                 /* the table was read */
    int64_t loaded_ms;          /* when, monotonic */
    int64_t kid_read_ms;        /* last read for an unknown kid; 0: none */
};

/* A key file's text (malloc'd); NULL with one line in err. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    char *text = file_read(path, 1 << 20, len);

    if (text == NULL)
        snprintf(err, errlen, "cannot read %s: %s", path,
                 errno == EFBIG ? "over 1 MiB" : strerror(errno));
    return text;
}

/* Points the policy at set, freeing the set it replaces. */
static void install(struct keyring *k, struct jwt_keyset *set)
{
    if (k->current != set)
        jwt_keyset_free(k->current);
    k->current = set;
    k->policy->keys = set;
}

static int add_file(struct keyring *k, const char *path, int pem, char *err,
                    size_t errlen)
{
    char msg[200];
    size_t len = 0, before = jwt_keyset_count(k->files);
    char *text = slurp(path, &len, err, errlen);
    int rc;

    if (text == NULL)
        return -1;
    rc = pem ? jwt_keyset_add_pem(k->files, text, len, NULL, msg, sizeof msg)
             : jwt_keyset_add_jwks(k->files, text, len, msg, sizeof msg);
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, msg);
        return -1;
    }
    if (jwt_keyset_count(k->files) == before) {
        snprintf(err, errlen, "%s: no RSA, P-256 or Ed25519 signing key", path);
        return -1;
    }
    return 0;
}

struct keyring *keyring_new(struct jwt_policy *policy, int explicit_algs,
                            const char *pem_path, const char *jwks_path,
                            enum jwks_table table, long reload_seconds,
                            char *err, size_t errlen)
{
    struct keyring *k = calloc(1, sizeof *k);

    if (k == NULL)
        die_oom();
    k->policy = policy;
    k->table = table;
    k->reload_seconds = reload_seconds;
    k->files = jwt_keyset_new();
    if ((pem_path && add_file(k, pem_path, 1, err, errlen) != 0) ||
        (jwks_path && add_file(k, jwks_path, 0, err, errlen) != 0)) {
        keyring_free(k);
        return NULL;
    }
    /* Unless JWT_ALGORITHMS says otherwise, the secret's HS256, what the key
     * files verify and, when the jwks table may be read, every public-key
     * algorithm: Better Auth makes its first key on first use and may switch
     * algorithms, so a token for a key the table did not have yet must reach
     * the kid lookup, which reads the table again.  The table's keys add no
     * other algorithm, so the list is set once, here. */
    if (!explicit_algs)
        policy->algs = (policy->secret ? JWT_HS256 : 0) | jwt_keyset_algs(k->files) |
                       (table != JWKS_TABLE_OFF ? JWT_ALGS_KEYS : 0);
    install(k, jwt_keyset_dup(k->files));
    return k;
}

void keyring_free(struct keyring *k)
{
    if (k == NULL)
        return;
    k->policy->keys = NULL;
    jwt_keyset_free(k->current);
    jwt_keyset_free(k->files);
    free(k);
}

int keyring_refresh(struct keyring *k, struct db *db, int unknown_kid)
{
    struct pool *p;
    struct jwt_keyset *set;
    const char **ids, **keys;
    char msg[200];
    json_object *jwk;
    size_t n = 0, i;
    int64_t now = ts_mono() / 1000;
    int exists = 0;

    if (k->table == JWKS_TABLE_OFF)
        return 0;
    if (k->loaded && !(unknown_kid ? k->kid_read_ms == 0 ||
                                         now - k->kid_read_ms >= UNKNOWN_KID_REREAD_MS
                                   : now - k->loaded_ms >= k->reload_seconds * 1000))
        return 0;
    if (unknown_kid)
        k->kid_read_ms = now;
    p = pool_new();
    if (db_jwks_list(db, p, &exists, &ids, &keys, &n) != DB_OK) {
        pool_free(p);
        return 0;
    }
    k->loaded = 1;
    k->loaded_ms = now;
    if (!exists && k->table == JWKS_TABLE_ON)
        log_warn("keys: JWT_JWKS_TABLE is on, but there is no jwks table");
    set = jwt_keyset_dup(k->files);
    for (i = 0; i < n; i++) {
        jwk = json_tokener_parse(keys[i]);
        if (jwt_keyset_add_jwk_json(set, jwk, ids[i], msg, sizeof msg) != 0)
            log_warn("keys: jwks row %s skipped: %s", ids[i], msg);
        json_object_put(jwk);
    }
    log_info("keys: %zu from files, %zu from the jwks table",
             jwt_keyset_count(k->files), jwt_keyset_count(set) - jwt_keyset_count(k->files));
    install(k, set);
    pool_free(p);
    return 1;
}
