/*
 * test_db.c: the connection against a real database: each connection of a
 * process prepares its own statements, a transaction's state is libpq's,
 * and a statement that may have run is not sent again on a new connection
 * while one that cannot have is.
 *
 * Needs TODO_DATABASE_URL (tests/api/test_db_connections.py runs this
 * against the API tests' stack); skipped without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "db_priv.h"

static const char *url;

/* Ends its own connection, as a restart or an idle timeout would: the
 * statement goes out and no answer comes back. */
static struct db_stmt stmt_suicide = {
    "test_suicide", "SELECT pg_terminate_backend(pg_backend_pid())", 0, 0,
};

static int need_database(void **state)
{
    (void)state;
    url = getenv("TODO_DATABASE_URL");
    return 0;
}

#define NEED_DATABASE()                                                    \
    do {                                                                   \
        if (url == NULL || *url == '\0')                                   \
            skip();                                                        \
    } while (0)

/* A second connection in one process prepares what the first already had:
 * which statements are prepared is the connection's to know. */
static void two_connections_each_prepare(void **state)
{
    struct db *a, *b;

    (void)state;
    NEED_DATABASE();
    a = db_open(url, 1, 0);
    b = db_open(url, 1, 0);
    assert_int_equal(db_ping(a), DB_OK);
    assert_int_equal(db_ping(b), DB_OK);
    assert_int_equal(db_ping(a), DB_OK);
    assert_int_equal(db_ping(b), DB_OK);
    db_close(a);
    db_close(b);
}

static void a_transaction_is_what_libpq_says(void **state)
{
    struct db *db;

    (void)state;
    NEED_DATABASE();
    db = db_open(url, 1, 0);
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(PQtransactionStatus(db_conn(db)), PQTRANS_INTRANS);
    assert_int_equal(db_ping(db), DB_OK);
    db_rollback(db);
    assert_int_equal(PQtransactionStatus(db_conn(db)), PQTRANS_IDLE);
    db_rollback(db);                    /* outside one: nothing */
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(PQtransactionStatus(db_conn(db)), PQTRANS_IDLE);
    db_close(db);
}

/* A statement lost after it went out may have run: not sent again.  The
 * next one goes on a new connection, prepared there again. */
static void a_lost_statement_is_not_sent_twice(void **state)
{
    enum db_status st;
    struct db *db;

    (void)state;
    NEED_DATABASE();
    db = db_open(url, 1, 0);
    assert_int_equal(db_ping(db), DB_OK);
    assert_null(db_run(db, NULL, &stmt_suicide, 0, NULL, PGRES_TUPLES_OK, &st));
    assert_int_equal(st, DB_UNAVAILABLE);
    assert_false(db_is_up(db));
    assert_int_equal(db_ping(db), DB_OK);
    db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_connections_each_prepare),
        cmocka_unit_test(a_transaction_is_what_libpq_says),
        cmocka_unit_test(a_lost_statement_is_not_sent_twice),
    };

    return cmocka_run_group_tests(tests, need_database, NULL);
}
