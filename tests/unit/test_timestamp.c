/*
 * test_timestamp: ts_parse, ts_parse_offset and ts_format against values
 * computed independently (Python's datetime), plus the malformed inputs
 * API.md says are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "timestamp.h"

#define SEC  INT64_C(1000000)
#define DAY  (INT64_C(86400) * SEC)

/* 2026-02-14T12:30:00Z */
#define T0   INT64_C(1771072200000000)

/* Takes a string; returns what ts_parse made of it, failing the test if
 * it refused the string. */
static int64_t parse_ok(const char *s)
{
    int64_t us = -42;

    if (ts_parse(s, &us) != 0)
        fail_msg("ts_parse refused \"%s\"", s);
    return us;
}

/* Takes a string; fails the test unless ts_parse refuses it and leaves the
 * output untouched. */
static void parse_bad(const char *s)
{
    int64_t us = -42;

    if (ts_parse(s, &us) != -1)
        fail_msg("ts_parse accepted \"%s\"", s);
    assert_int_equal(us, -42);
}

/* Takes microseconds and the expected text; fails unless they match. */
static void format_is(int64_t us, const char *want)
{
    char buf[TS_BUFSZ];

    memset(buf, 'x', sizeof buf);
    ts_format(us, buf);
    assert_string_equal(buf, want);
}

/* ---------------------------------------------------------------- parse */

static void test_parse_zulu(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-02-14T12:30:00Z"), T0);
    assert_int_equal(parse_ok("2026-02-14T12:30:00"), T0);
    assert_int_equal(parse_ok("2026-02-14t12:30:00z"), T0);
    assert_int_equal(parse_ok("2026-02-14 12:30:00Z"), T0);
    assert_int_equal(parse_ok("2026-02-14T12:30:00+00:00"), T0);
    assert_int_equal(parse_ok("2026-02-14T12:30:00-00:00"), T0);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    /* 12:30 at +05:30 is 07:00 UTC; 04:30 at -08:00 is 12:30 UTC. */
    assert_int_equal(parse_ok("2026-02-14T12:30:00+05:30"),
                     INT64_C(1771052400000000));
    assert_int_equal(parse_ok("2026-02-14T04:30:00-08:00"), T0);
    /* Crossing midnight backwards and forwards. */
    assert_int_equal(parse_ok("2026-02-15T01:00:00+12:30"), T0);
    assert_int_equal(parse_ok("2026-02-13T23:30:00-13:00"), T0);
    assert_int_equal(parse_ok("2026-02-14T12:30:00+23:59"),
                     T0 - (23 * 3600 + 59 * 60) * SEC);
}

static void test_parse_fraction(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-02-14T12:30:00.5Z"), T0 + 500000);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.12Z"), T0 + 120000);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.123Z"), T0 + 123000);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.1234Z"), T0 + 123400);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.12345Z"), T0 + 123450);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.123456Z"), T0 + 123456);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.1234567Z"), T0 + 123456);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.12345678Z"), T0 + 123456);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.999999999Z"), T0 + 999999);
    assert_int_equal(parse_ok("2026-02-14T12:30:00.000001+05:30"),
                     INT64_C(1771052400000001));
    assert_int_equal(parse_ok("2026-02-14T12:30:00.0"), T0);
}

static void test_parse_bare_date(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-02-14"), T0 - (12 * 3600 + 30 * 60) * SEC);
    assert_int_equal(parse_ok("0001-01-01"), INT64_C(-62135596800000000));
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"),
                     INT64_C(253402300799000000));
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -SEC);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    parse_bad("2026-02-30T00:00:00Z");
    parse_bad("2026-04-31");
    parse_bad("2026-13-01");
    parse_bad("2026-00-01");
    parse_bad("2026-01-00");
    parse_bad("2026-01-32");
    parse_bad("2026-02-14T24:00:00Z");
    parse_bad("2026-02-14T12:60:00Z");
    parse_bad("2026-02-14T12:30:60Z");
    parse_bad("2026-1-01");
    parse_bad("2026-01-1");
    parse_bad("226-01-01");
    parse_bad("20260-01-01");
    parse_bad("2026/01/01");
    parse_bad("2026-02-14T12:30:00Zjunk");
    parse_bad("2026-02-14T12:30:00 ");
    parse_bad("2026-02-14x");
    parse_bad("2026-02-14T");
    parse_bad("2026-02-14T12:30:");
    parse_bad("2026-02-14T12:30.5Z");
    parse_bad("2026-02-14T12:3");
    parse_bad("2026-02-14T12:30:00.");
    parse_bad("2026-02-14T12:30:00.Z");
    parse_bad("2026-02-14T1:30:00Z");
    parse_bad("2026-02-14T12:30:00+24:00");
    parse_bad("2026-02-14T12:30:00+05:60");
    parse_bad("2026-02-14T12:30:00+05");
    parse_bad("2026-02-14T12:30:00+053");
    parse_bad("2026-02-14T12:30:00+05:3");
    parse_bad("2026-02-14T12:30:00+2400");
    parse_bad("2026-02-14T12:30:00+05:30:00");
    parse_bad("2026-02-14T12:30:00+05:30Z");
    parse_bad("2026-02-14Z");
    parse_bad("0000-01-01");
    parse_bad("0000-12-31T23:00:00Z");
    parse_bad("-001-01-01");
    parse_bad("+2026-01-01");
    parse_bad(" 2026-01-01");
    parse_bad("");
    /* Offsets that push the instant outside years 1..9999. */
    parse_bad("0001-01-01T00:00:00+00:01");
    parse_bad("9999-12-31T23:59:59-00:01");
    assert_int_equal(ts_parse(NULL, &(int64_t){ 0 }), -1);
    assert_int_equal(ts_parse("2026-01-01", NULL), -1);
}

/* The forms pydantic also reads: no seconds (a browser's datetime-local),
 * and an offset without its colon. */
static void test_parse_pydantic_forms(void **state)
{
    int off = 1;
    int64_t us;

    (void)state;
    assert_int_equal(parse_ok("2026-02-14T12:30"), T0);
    assert_int_equal(parse_ok("2026-02-14 12:30Z"), T0);
    assert_int_equal(parse_ok("2026-02-14T12:30:00+0000"), T0);
    assert_int_equal(parse_ok("2026-02-14T18:00+0530"), T0);
    assert_int_equal(parse_ok("2026-02-14T07:30:00.000000-0500"), T0);
    assert_int_equal(ts_parse_offset("2026-02-14T07:30-0500", &us, &off), 0);
    assert_int_equal(us, T0);
    assert_int_equal(off, -5 * 3600);
}

static void test_parse_leap(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2028-02-29T00:00:00Z"),
                     parse_ok("2028-02-28T00:00:00Z") + DAY);
    assert_int_equal(parse_ok("2028-03-01"), parse_ok("2028-02-29") + DAY);
    parse_bad("2027-02-29");
    assert_int_equal(parse_ok("2000-02-29"), INT64_C(951782400000000));
    parse_bad("1900-02-29");
    parse_bad("2100-02-29");
    assert_int_equal(parse_ok("1900-03-01"), INT64_C(-2203891200000000));
    assert_int_equal(parse_ok("1900-03-01"), parse_ok("1900-02-28") + DAY);
}

/* --------------------------------------------------------------- format */

static void test_format(void **state)
{
    (void)state;
    format_is(0, "1970-01-01T00:00:00Z");
    format_is(T0, "2026-02-14T12:30:00Z");
    format_is(T0 + 500000, "2026-02-14T12:30:00.500000Z");
    format_is(T0 + 1, "2026-02-14T12:30:00.000001Z");
    format_is(T0 + 999999, "2026-02-14T12:30:00.999999Z");
    format_is(-1, "1969-12-31T23:59:59.999999Z");
    format_is(-SEC, "1969-12-31T23:59:59Z");
    format_is(INT64_C(-2203891200000000), "1900-03-01T00:00:00Z");
    format_is(INT64_C(-11644473600000000), "1601-01-01T00:00:00Z");
    format_is(INT64_C(-62135596800000000), "0001-01-01T00:00:00Z");
    format_is(INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z");
    format_is(INT64_C(951782400000000), "2000-02-29T00:00:00Z");
}

static void test_round_trip(void **state)
{
    static const char *const s[] = {
        "2026-02-14T12:30:00Z", "2026-02-14T12:30:00.123456Z",
        "1970-01-01T00:00:00Z", "1969-07-20T20:17:40Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
        "2028-02-29T23:59:59.000001Z", "1600-02-29T00:00:00Z",
    };
    char buf[TS_BUFSZ];
    int64_t us, back;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof s / sizeof s[0]; i++) {
        us = parse_ok(s[i]);
        ts_format(us, buf);
        assert_string_equal(buf, s[i]);
        back = parse_ok(buf);
        assert_int_equal(back, us);
    }
    /* Every day for 1200 years round-trips through the day arithmetic. */
    for (us = parse_ok("1500-01-01T06:07:08.9Z");
         us < parse_ok("2700-01-01"); us += DAY) {
        ts_format(us, buf);
        assert_int_equal(parse_ok(buf), us);
    }
}

/* ----------------------------------------------------- the offset given */

/* Takes a timestamp and the offset it must report, in seconds east. */
static void offset_is(const char *s, int want)
{
    int64_t us = 0;
    int off = 12345;

    assert_int_equal(ts_parse_offset(s, &us, &off), 0);
    assert_int_equal(off, want);
    assert_int_equal(us, parse_ok(s));
}

static void test_parse_offset_given(void **state)
{
    int64_t us = -42;
    int off = -42;

    (void)state;
    offset_is("2026-02-14T12:30:00Z", 0);
    offset_is("2026-02-14T12:30:00z", 0);
    offset_is("2026-02-14T12:30:00", 0);
    offset_is("2026-02-14", 0);
    offset_is("2026-02-14T12:30:00+00:00", 0);
    offset_is("2026-02-14T12:30:00-00:00", 0);
    offset_is("2026-02-14T12:30:00+05:30", 5 * 3600 + 30 * 60);
    offset_is("2025-01-30T20:00:00-05:00", -5 * 3600);
    offset_is("2026-02-14T12:30:00.25-08:45", -(8 * 3600 + 45 * 60));
    offset_is("2026-02-14T12:30:00+23:59", 23 * 3600 + 59 * 60);
    offset_is("2026-02-14T12:30:00-23:59", -(23 * 3600 + 59 * 60));
    /* NULL is allowed for the offset; a refused input sets nothing. */
    assert_int_equal(ts_parse_offset("2026-02-14T12:30:00+01:00", &us, NULL), 0);
    us = -42;
    assert_int_equal(ts_parse_offset("2026-02-14T12:30:00+24:00", &us, &off), -1);
    assert_int_equal(ts_parse_offset("9999-12-31T23:00:00-01:00", &us, &off), -1);
    assert_int_equal(us, -42);
    assert_int_equal(off, -42);
}

static void test_now(void **state)
{
    int64_t a, b;

    (void)state;
    a = ts_now();
    b = ts_now();
    assert_true(a > parse_ok("2024-01-01"));
    assert_true(a < parse_ok("2200-01-01"));
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_zulu),
        cmocka_unit_test(test_parse_offsets),
        cmocka_unit_test(test_parse_fraction),
        cmocka_unit_test(test_parse_bare_date),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_pydantic_forms),
        cmocka_unit_test(test_parse_leap),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_offset_given),
        cmocka_unit_test(test_now),
    };

    return cmocka_run_group_tests_name("timestamp", tests, NULL, NULL);
}
