/*
 * test_query.c: the listing's parameters, aliases and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "query.h"

#include "unit_pool.h"

/* Parses raw; returns the error count, the errors' JSON in *errs_out. */
static int parse(const char *raw, struct task_query *q, const char **errs_out)
{
    json_object *errs = json_object_new_array();
    int n = task_query_parse(pool, raw, q, errs);

    *errs_out = pool_strdup(pool, json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN));
    json_object_put(errs);
    return n;
}

static void defaults(void **state)
{
    struct task_query q;
    const char *e;

    (void)state;
    assert_int_equal(parse("", &q, &e), 0);
    assert_int_equal(q.status, -1);
    assert_int_equal(q.sort, SORT_CREATED);
    assert_int_equal(q.desc, 1);
    assert_null(q.q);
    assert_int_equal(q.limit, 100);
    assert_int_equal(q.offset, 0);
    assert_int_equal(q.ntags, 0);
}

static void default_order_depends_on_sort(void **state)
{
    struct task_query q;
    const char *e;

    (void)state;
    parse("sort=title", &q, &e);
    assert_int_equal(q.desc, 0);
    parse("sort=due_date", &q, &e);
    assert_int_equal(q.desc, 0);
    parse("sort=priority", &q, &e);
    assert_int_equal(q.desc, 1);
    parse("order=asc&sort=updated", &q, &e);
    assert_int_equal(q.desc, 0);
    assert_int_equal(q.sort, SORT_UPDATED);
}

static void aliases(void **state)
{
    struct task_query q;
    const char *e;

    (void)state;
    assert_int_equal(parse("sort_by=title&sort_order=desc&search=milk&status_filter=pending", &q, &e), 0);
    assert_int_equal(q.sort, SORT_TITLE);
    assert_int_equal(q.desc, 1);
    assert_string_equal(q.q, "milk");
    assert_int_equal(q.status, 0);
    parse("completed=true", &q, &e);
    assert_int_equal(q.status, 1);
    parse("completed=false", &q, &e);
    assert_int_equal(q.status, 0);
    parse("tags=home,%20work%20,,home2&tag=x", &q, &e);
    assert_int_equal(q.ntags, 4);
    assert_string_equal(q.tags[0], "home");
    assert_string_equal(q.tags[1], "work");
    assert_string_equal(q.tags[2], "home2");
    assert_string_equal(q.tags[3], "x");
}

static void decoding(void **state)
{
    struct task_query q;
    const char *e;

    (void)state;
    parse("q=%C3%84PFEL+gr%C3%BCn", &q, &e);
    assert_string_equal(q.q, "\xc3\x84PFEL gr\xc3\xbcn");
    parse("q=100%25", &q, &e);
    assert_string_equal(q.q, "100%");
    parse("unknown=1&q=a&bogus", &q, &e);
    assert_string_equal(q.q, "a");
    /* As parse_qsl: a '%' that starts no escape is itself. */
    parse("q=100%&x=%ZZ", &q, &e);
    assert_string_equal(q.q, "100%");
    /* Bytes that are not text: an error for a known parameter only. */
    assert_int_equal(parse("%FF=%FF&utm=%00&x%00=1", &q, &e), 0);
    assert_int_equal(parse("tag=%00&q=%FF", &q, &e), 2);
    assert_non_null(strstr(e, "\"loc\":[\"query\",\"tag\"]"));
    assert_non_null(strstr(e, "string_unicode"));
}

static void bad_values_name_the_parameter(void **state)
{
    struct task_query q;
    const char *e;

    (void)state;
    assert_int_equal(parse("limit=0", &q, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"query\",\"limit\"]"));
    assert_non_null(strstr(e, "greater_than_equal"));
    assert_int_equal(parse("limit=1001", &q, &e), 1);
    assert_non_null(strstr(e, "less_than_equal"));
    assert_int_equal(parse("limit=1000&offset=0", &q, &e), 0);
    assert_int_equal(parse("limit=abc", &q, &e), 1);
    assert_non_null(strstr(e, "int_parsing"));
    assert_int_equal(parse("offset=-1", &q, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"query\",\"offset\"]"));
    assert_int_equal(parse("status=finished", &q, &e), 1);
    assert_int_equal(parse("sort=Title", &q, &e), 1);
    assert_int_equal(parse("order=up", &q, &e), 1);
    assert_int_equal(parse("priority=urgent", &q, &e), 1);
    assert_int_equal(parse("completed=maybe", &q, &e), 1);
    assert_int_equal(parse("due_before=tomorrow", &q, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"query\",\"due_before\"]"));
    assert_int_equal(parse("q=%FF", &q, &e), 1);
    assert_int_equal(parse("limit=0&offset=-1&sort=x", &q, &e), 3);
}

static void q_length_counts_code_points(void **state)
{
    char raw[1300] = "q=";
    struct task_query q;
    const char *e;
    int i;

    (void)state;
    for (i = 0; i < 200; i++)
        strcat(raw, "%C3%A4");
    assert_int_equal(parse(raw, &q, &e), 0);
    strcat(raw, "a");
    assert_int_equal(parse(raw, &q, &e), 1);
    assert_non_null(strstr(e, "string_too_long"));
}

static void next_page_link_replaces_offset_and_cursor(void **state)
{
    (void)state;
    assert_string_equal(query_with_cursor(pool, "", "Yz"), "cursor=Yz");
    assert_string_equal(query_with_cursor(pool, "limit=2&offset=2&q=a%20b&cursor=old", "Yz"),
                        "limit=2&q=a%20b&cursor=Yz");
    assert_string_equal(query_with_cursor(pool, "offsetx=1&cursors=1&limit=5", "Yz"),
                        "offsetx=1&cursors=1&limit=5&cursor=Yz");
    /* What a URI may not hold is escaped, so the Link stays one URI. */
    assert_string_equal(query_with_cursor(pool, "x=a>b;c,d\"e<f&q=100%&r=%4", "Yz"),
                        "x=a%3Eb;c,d%22e%3Cf&q=100%25&r=%254&cursor=Yz");
    assert_string_equal(query_with_cursor(pool, "q=\xc3\xa9 x", "Yz"), "q=%C3%A9%20x&cursor=Yz");
    /* The longest answer for its length: one parameter, every byte escaped
     * (the fuzzer found the byte this once overran). */
    assert_string_equal(query_with_cursor(pool, "\"", "Yz"), "%22&cursor=Yz");
    assert_string_equal(query_with_cursor(pool, "<>", ""), "%3C%3E&cursor=");
}

/* A cursor made for one sort and order reads back in it, and in no other. */
static void cursor_round_trips_in_its_own_sort_only(void **state)
{
    static const char *const titles[] = { "plain", "a.b.c", "\xc3\xa4pfel & %00", "" };
    struct task_query q, back;
    struct task t;
    const char *e;
    char raw[600];
    int sort, desc;
    size_t i;

    (void)state;
    task_defaults(&t);
    t.id = 42;
    t.created = 1764000000123456;
    t.updated = -5;
    t.has_due = 1;
    t.due = 1764000000000000;
    t.priority = PRIORITY_HIGH;
    for (sort = SORT_CREATED; sort <= SORT_PRIORITY; sort++)
        for (desc = 0; desc < 2; desc++)
            for (i = 0; i < sizeof titles / sizeof titles[0]; i++) {
                t.title = titles[i];
                t.has_due = i != 1;
                snprintf(raw, sizeof raw, "sort=%s&order=%s",
                         (const char *[]){ "created", "updated", "title", "due_date",
                                           "priority" }[sort], desc ? "desc" : "asc");
                assert_int_equal(parse(raw, &q, &e), 0);
                snprintf(raw + strlen(raw), sizeof raw - strlen(raw), "&offset=7&cursor=%s",
                         query_cursor(pool, &q, &t));
                assert_int_equal(parse(raw, &back, &e), 0);
                assert_true(back.has_cursor);
                assert_int_equal(back.after_id, 42);
                assert_int_equal(back.offset, 0);
                if (sort == SORT_TITLE)
                    assert_string_equal(back.key_s, t.title);
                else if (sort == SORT_DUE_DATE && !t.has_due)
                    assert_true(back.key_null);
                else
                    assert_int_equal(back.key_i, sort == SORT_CREATED ? t.created
                                                 : sort == SORT_UPDATED ? t.updated
                                                 : sort == SORT_DUE_DATE ? t.due
                                                                         : PRIORITY_HIGH);
                /* The other order, or another sort: 422 at ["query", "cursor"]. */
                snprintf(raw, sizeof raw, "sort=%s&order=%s&cursor=%s",
                         (const char *[]){ "created", "updated", "title", "due_date",
                                           "priority" }[sort], desc ? "asc" : "desc",
                         query_cursor(pool, &q, &t));
                assert_int_equal(parse(raw, &back, &e), 1);
                assert_non_null(strstr(e, "\"cursor\""));
            }
    assert_int_equal(parse("cursor=not-base64!", &back, &e), 1);
    assert_int_equal(parse("cursor=MTEuNDI", &back, &e), 1);   /* "11.42": no key */
    assert_int_equal(parse("cursor=", &back, &e), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(default_order_depends_on_sort),
        cmocka_unit_test(aliases),
        cmocka_unit_test(decoding),
        cmocka_unit_test(bad_values_name_the_parameter),
        cmocka_unit_test(q_length_counts_code_points),
        cmocka_unit_test(next_page_link_replaces_offset_and_cursor),
        cmocka_unit_test(cursor_round_trips_in_its_own_sort_only),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
