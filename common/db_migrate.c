/*
 * db_migrate.c: the schema: schema/NNN_*.sql applied in order, each once,
 * on a connection of its own (todo-fcgi --migrate, db.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_priv.h"
#include "file.h"

#define MIGRATION_MAX (16u << 20)     /* bytes of one schema file */

static int is_migration(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 8 && d->d_name[0] >= '0' && d->d_name[0] <= '9' &&
           d->d_name[1] >= '0' && d->d_name[1] <= '9' &&
           d->d_name[2] >= '0' && d->d_name[2] <= '9' && d->d_name[3] == '_' &&
           strcmp(d->d_name + n - 4, ".sql") == 0;
}

/* Runs a command with parameters; 0 when it returned want. */
static int exec_ok(PGconn *c, const char *q, int n, const char *const *v,
                   ExecStatusType want)
{
    PGresult *res = PQexecParams(c, q, n, NULL, v, NULL, NULL, 0);
    int ok = PQresultStatus(res) == want;

    if (!ok)
        fprintf(stderr, "migrate: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/* Applies one file in its own transaction; 1 applied, 0 already, -1 error. */
static int apply_one(PGconn *c, const char *dir, const char *name)
{
    const char *v[] = { name };
    char path[4096], *text;
    PGresult *res;
    int done, rc = -1;

    res = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
                       1, NULL, v, NULL, NULL, 0);
    done = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    if (done)
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((text = file_read(path, MIGRATION_MAX, NULL)) == NULL) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("migrate: applying %s\n", name);
    fflush(stdout);
    if (exec_ok(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK) != 0)
        goto out;
    res = PQexec(c, text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "migrate: %s: %s", name, PQresultErrorMessage(res));
        PQclear(res);
        PQclear(PQexec(c, "ROLLBACK"));
        goto out;
    }
    PQclear(res);
    if (exec_ok(c, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, v,
                PGRES_COMMAND_OK) != 0 ||
        exec_ok(c, "COMMIT", 0, NULL, PGRES_COMMAND_OK) != 0) {
        PQclear(PQexec(c, "ROLLBACK"));
        goto out;
    }
    rc = 1;
out:
    free(text);
    return rc;
}

/* "relation already exists, skipping" is not news to the operator. */
static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int db_migrate(const char *conninfo, const char *dir)
{
    struct dirent **names = NULL;
    PGconn *c = db_connect_now(conninfo);
    int n = -1, i, applied = 0, r, rc = -1;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "migrate: cannot connect: %s\n", db_pq_msg(c));
        goto out;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    /* One migrator at a time, however many start together. */
    if (exec_ok(c, "SELECT pg_advisory_lock(7415)", 0, NULL, PGRES_TUPLES_OK) ||
        exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version text PRIMARY KEY,"
                   " applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL, PGRES_COMMAND_OK))
        goto out;
    n = scandir(dir, &names, is_migration, alphasort);
    if (n < 0) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", dir, strerror(errno));
        goto out;
    }
    for (i = 0; i < n; i++) {
        r = apply_one(c, dir, names[i]->d_name);
        if (r < 0)
            goto out;
        applied += r;
    }
    printf("migrate: %d applied, %d up to date\n", applied, n - applied);
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    PQfinish(c);
    return rc;
}
