"""Listing one's tasks: filters, search, sorting, paging, and the aliases that
existing front ends send."""

import json
import re
import urllib.parse

import pytest

from helpers import (
    DB, Client, assert_task, assert_validation, link_target, parse_ts, raw_request, url,
    validation_errors,
)

PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2}


@pytest.fixture(scope="module")
def seeded():
    """One user with a fixed set of tasks; tests here only read them. Returns the
    client and the tasks as the server returned them last, by id."""
    c = Client()
    specs = [
        dict(title="Buy äpfel", priority="low", tags=["home", "shop"],
             due_date="2026-12-01T10:00:00Z"),
        dict(title="Call mom", description="about 100% sure", priority="high",
             tags=["family"], completed=True),
        dict(title="zebra_case", priority="medium", tags=["work"],
             due_date="2026-11-25T09:00:00Z"),
        dict(title="back\\slash", priority="high", tags=["work", "home"],
             due_date="2026-12-10T00:00:00Z", completed=True),
        dict(title="Apple pie", description="Grandma's recipe", priority="medium",
             tags=["home"]),
        dict(title="Same", priority="medium", due_date="2026-11-25T09:00:00Z"),
        dict(title="Same", priority="medium", due_date="2026-11-25T09:00:00Z"),
        dict(title="Same", priority="medium"),
        dict(title="ÉCOLE", description="Straße", priority="low", tags=["school"],
             due_date="2027-01-15T08:00:00Z"),
    ]
    tasks = [c.create(**s) for s in specs]
    # Touch an early task so that the update order differs from the creation order.
    r = c.patch(tasks[2]["id"], json={"priority": "low"})
    assert r.status_code == 200, r.text
    tasks[2] = r.json()
    return c, {t["id"]: t for t in tasks}, [t["id"] for t in tasks]


def ids_of(r):
    return [t["id"] for t in r.json()]


# --------------------------------------------------------------------------
# Sorting


def expected(tasks, sort, order):
    """The ids in the order API.md specifies: ties by id in the same direction,
    tasks without a due date after the others in either order."""
    rev = order == "desc"
    key = {
        "created": lambda t: (parse_ts(t["created_at"]), t["id"]),
        "updated": lambda t: (parse_ts(t["updated_at"]), t["id"]),
        "title": lambda t: (t["title"], t["id"]),
        "priority": lambda t: (PRIORITY_RANK[t["priority"]], t["id"]),
        "due_date": lambda t: (parse_ts(t["due_date"]), t["id"]),
    }[sort]
    ts = list(tasks.values())
    if sort == "due_date":
        dated = sorted([t for t in ts if t["due_date"]], key=key, reverse=rev)
        undated = sorted([t for t in ts if not t["due_date"]], key=lambda t: t["id"],
                         reverse=rev)
        return [t["id"] for t in dated + undated]
    return [t["id"] for t in sorted(ts, key=key, reverse=rev)]


@pytest.mark.parametrize("sort", ["created", "updated", "title", "due_date", "priority"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_in_both_orders(seeded, sort, order):
    c, tasks, _ = seeded
    r = c.list({"sort": sort, "order": order})
    assert ids_of(r) == expected(tasks, sort, order)


@pytest.mark.parametrize("sort, default", [("created", "desc"), ("updated", "desc"),
                                           ("priority", "desc"), ("title", "asc"),
                                           ("due_date", "asc")])
def test_default_order_of_each_sort(seeded, sort, default):
    c, tasks, _ = seeded
    assert ids_of(c.list({"sort": sort})) == expected(tasks, sort, default)


def test_default_listing_is_newest_first(seeded):
    c, tasks, created = seeded
    r = c.list()
    assert ids_of(r) == list(reversed(created))
    for t in r.json():
        assert_task(t, c.user)
        assert t == tasks[t["id"]]


def test_title_order_is_by_code_point_with_ties_by_id(seeded):
    c, tasks, created = seeded
    same = [i for i in created if tasks[i]["title"] == "Same"]
    asc = ids_of(c.list({"sort": "title"}))
    desc = ids_of(c.list({"sort": "title", "order": "desc"}))
    assert [i for i in asc if i in same] == sorted(same)
    assert [i for i in desc if i in same] == sorted(same, reverse=True)
    assert asc == list(reversed(desc))
    titles = [tasks[i]["title"] for i in asc]
    assert titles == sorted(titles)


def test_updated_order_puts_the_last_changed_first(seeded):
    c, _, created = seeded
    assert ids_of(c.list({"sort": "updated"}))[0] == created[2]


def test_priority_order_high_first_with_ties_by_id_descending(seeded):
    c, tasks, _ = seeded
    got = ids_of(c.list({"sort": "priority"}))
    ranks = [PRIORITY_RANK[tasks[i]["priority"]] for i in got]
    assert ranks == sorted(ranks, reverse=True)
    medium = [i for i in got if tasks[i]["priority"] == "medium"]
    assert medium == sorted(medium, reverse=True)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_tasks_without_due_date_come_last(seeded, order):
    c, tasks, _ = seeded
    got = ids_of(c.list({"sort": "due_date", "order": order}))
    dated = [i for i in got if tasks[i]["due_date"]]
    assert got[:len(dated)] == dated
    assert all(tasks[i]["due_date"] is None for i in got[len(dated):])
    assert len(dated) < len(got)


def test_pages_of_a_sort_with_ties_never_overlap_or_skip(seeded):
    c, tasks, _ = seeded
    for sort in ("title", "priority", "due_date"):
        for order in ("asc", "desc"):
            pages = []
            for offset in range(0, len(tasks), 2):
                pages += ids_of(c.list({"sort": sort, "order": order, "limit": 2,
                                        "offset": offset}))
            assert pages == expected(tasks, sort, order), (sort, order)


@pytest.mark.parametrize("params, loc", [
    ({"sort": "name"}, ["query", "sort"]),
    ({"order": "up"}, ["query", "order"]),
    ({"sort": "TITLE"}, ["query", "sort"]),
])
def test_bad_sort_or_order_is_422(seeded, params, loc):
    c, _, _ = seeded
    assert_validation(c.get("", params=params), loc)


# --------------------------------------------------------------------------
# Filters


def test_status_filters(seeded):
    c, tasks, _ = seeded
    done = {i for i, t in tasks.items() if t["completed"]}
    assert set(ids_of(c.list({"status": "completed"}))) == done
    assert set(ids_of(c.list({"status": "pending"}))) == set(tasks) - done
    assert set(ids_of(c.list({"status": "all"}))) == set(tasks)


def test_bad_status_is_422(seeded):
    c, _, _ = seeded
    assert_validation(c.get("", params={"status": "finished"}), ["query", "status"])


def test_priority_filter(seeded):
    c, tasks, _ = seeded
    for p in ("low", "medium", "high"):
        want = {i for i, t in tasks.items() if t["priority"] == p}
        assert set(ids_of(c.list({"priority": p}))) == want, p


def test_bad_priority_filter_is_422(seeded):
    c, _, _ = seeded
    assert_validation(c.get("", params={"priority": "urgent"}), ["query", "priority"])


def test_single_tag(seeded):
    c, tasks, _ = seeded
    want = {i for i, t in tasks.items() if "home" in t["tags"]}
    assert set(ids_of(c.list({"tag": "home"}))) == want
    assert len(want) == 3


def test_repeated_tag_means_all_of_them(seeded):
    c, tasks, created = seeded
    assert ids_of(c.list({"tag": ["home", "shop"]})) == [created[0]]
    assert ids_of(c.list({"tag": ["home", "work"]})) == [created[3]]
    assert ids_of(c.list({"tag": ["home", "nope"]})) == []


def test_unknown_tag_finds_nothing(seeded):
    c, _, _ = seeded
    r = c.list({"tag": "nope"})
    assert r.json() == []
    assert r.headers.get("X-Total-Count") == "0"


def test_due_range(seeded):
    c, tasks, created = seeded
    after = set(ids_of(c.list({"due_after": "2026-11-26T00:00:00Z"})))
    assert after == {created[0], created[3], created[8]}
    before = set(ids_of(c.list({"due_before": "2026-12-05T00:00:00Z"})))
    assert before == {created[0], created[2], created[5], created[6]}
    both = ids_of(c.list({"due_after": "2026-11-26T00:00:00Z",
                          "due_before": "2026-12-05T00:00:00Z"}))
    assert both == [created[0]]


def test_due_range_honours_offsets(seeded):
    c, _, created = seeded
    # 12:00+01:00 is 11:00Z, after "Buy äpfel" (10:00Z); 10:30+01:00 is 09:30Z, before.
    assert created[0] in ids_of(c.list({"due_before": "2026-12-01T12:00:00+01:00"}))
    assert created[0] not in ids_of(c.list({"due_before": "2026-12-01T10:30:00+01:00"}))


@pytest.mark.parametrize("name", ["due_before", "due_after"])
def test_bad_due_bound_is_422(seeded, name):
    c, _, _ = seeded
    assert_validation(c.get("", params={name: "yesterday"}), ["query", name])


def test_filters_combine(seeded):
    c, _, created = seeded
    got = ids_of(c.list({"status": "completed", "tag": "work", "priority": "high"}))
    assert got == [created[3]]


# --------------------------------------------------------------------------
# Search


@pytest.mark.parametrize("q, which", [
    ("äpfel", [0]),
    ("ÄPFEL", [0]),
    ("äPfEl", [0]),
    ("APPLE", [4]),
    ("grandma", [4]),                 # description
    ("école", [8]),
    ("straße", [8]),
    ("100%", [1]),
    ("%", [1]),
    ("_", [2]),
    ("a_c", [2]),
    ("\\", [3]),
    ("k\\s", [3]),
    ("nothing like this", []),
])
def test_search_is_case_insensitive_and_literal(seeded, q, which):
    c, _, created = seeded
    want = {created[i] for i in which}
    assert set(ids_of(c.list({"q": q}))) == want


def test_search_does_not_treat_quotes_specially(seeded):
    c, _, created = seeded
    assert ids_of(c.list({"q": "grandma's"})) == [created[4]]
    assert ids_of(c.list({"q": "'; --"})) == []


def test_search_of_200_characters_is_accepted(seeded):
    c, _, _ = seeded
    r = c.list({"q": "\u00e9" * 200})
    assert r.json() == []


def test_search_over_200_characters_is_422(seeded):
    c, _, _ = seeded
    assert_validation(c.get("", params={"q": "\u00e9" * 201}), ["query", "q"])


def test_a_percent_sign_that_is_no_escape_is_searched_literally(seeded):
    # A client that does not encode "%" (curl '...?q=100%') is read as
    # Python's parse_qsl reads it, not dropped.
    c, _, created = seeded
    status, _, body = raw_request("GET", f"/api/{c.user}/tasks?q=100%", token=c.token)
    assert status == 200 and [t["id"] for t in json.loads(body)] == [created[1]]


@pytest.mark.parametrize("query, name", [
    ("status=%ZZ", "status"), ("limit=%ZZ", "limit"), ("completed=%00", "completed"),
    ("tag=%00", "tag"), ("q=%00", "q"), ("due_before=%00", "due_before"),
])
def test_a_bad_escape_or_nul_in_a_known_parameter_is_422(seeded, query, name):
    c, _, _ = seeded
    status, _, body = raw_request("GET", f"/api/{c.user}/tasks?{query}", token=c.token)
    assert status == 422, body
    assert [e["loc"] for e in json.loads(body)["detail"]] == [["query", name]]


# --------------------------------------------------------------------------
# Aliases and unknown parameters


@pytest.mark.parametrize("alias, canonical", [
    ({"sort_by": "title"}, {"sort": "title"}),
    ({"sort_by": "priority", "sort_order": "asc"}, {"sort": "priority", "order": "asc"}),
    ({"sort_by": "due_date", "sort_order": "desc"}, {"sort": "due_date", "order": "desc"}),
    ({"search": "ÄPFEL"}, {"q": "äpfel"}),
    ({"status_filter": "completed"}, {"status": "completed"}),
    ({"status_filter": "pending"}, {"status": "pending"}),
    ({"status_filter": "active"}, {"status": "pending"}),
    ({"status_filter": "done"}, {"status": "completed"}),
    ({"status": "active"}, {"status": "pending"}),
    ({"status": "done"}, {"status": "completed"}),
    ({"priority_filter": "high"}, {"priority": "high"}),
    ({"tags_filter": "home,shop"}, {"tag": ["home", "shop"]}),
    ({"due_date_from": "2026-01-01T00:00:00Z", "due_date_to": "2027-01-01"},
     {"due_after": "2026-01-01T00:00:00Z", "due_before": "2027-01-01"}),
    ({"completed": "true"}, {"status": "completed"}),
    ({"completed": "false"}, {"status": "pending"}),
    ({"tags": "home,shop"}, {"tag": ["home", "shop"]}),
    ({"tags": "work"}, {"tag": "work"}),
])
def test_aliases_mean_the_same(seeded, alias, canonical):
    c, _, _ = seeded
    want = ids_of(c.list(canonical))
    assert ids_of(c.list(alias)) == want
    assert want                                   # the scenario really selects something


@pytest.mark.parametrize("params", [{"sort_by": "name"}, {"sort_order": "up"},
                                    {"status_filter": "finished"}, {"status": "open"},
                                    {"priority_filter": "urgent"},
                                    {"due_date_from": "soon"}, {"completed": "maybe"}])
def test_alias_with_a_bad_value_is_422(seeded, params):
    c, _, _ = seeded
    items = validation_errors(c.get("", params=params))
    assert all(it["loc"][0] == "query" for it in items), items


def test_unknown_parameters_are_ignored(seeded):
    c, _, _ = seeded
    want = ids_of(c.list({"sort": "title"}))
    assert ids_of(c.list({"sort": "title", "foo": "bar", "limit2": "x", "page": "-3"})) == want


# --------------------------------------------------------------------------
# Paging


def test_total_count_ignores_limit_and_offset(seeded):
    c, tasks, _ = seeded
    r = c.list({"limit": 2, "offset": 1})
    assert len(r.json()) == 2
    assert r.headers.get("X-Total-Count") == str(len(tasks))
    r = c.list({"status": "completed", "limit": 1})
    assert r.headers.get("X-Total-Count") == "2"


def test_offset_beyond_the_end_is_empty(seeded):
    c, tasks, _ = seeded
    r = c.list({"offset": 1000})
    assert r.json() == []
    assert r.headers.get("X-Total-Count") == str(len(tasks))
    assert link_target(r, "next") is None


def test_empty_listing(api):
    r = api.list()
    assert r.json() == []
    assert r.headers.get("X-Total-Count") == "0"
    assert link_target(r, "next") is None


def test_following_next_links_walks_every_page_once(seeded):
    c, tasks, _ = seeded
    want = expected(tasks, "title", "asc")
    r = c.list({"sort": "title", "limit": 4})
    seen = []
    for _ in range(10):
        seen += ids_of(r)
        nxt = link_target(r, "next")
        if len(seen) < len(want):
            assert nxt, (seen, r.headers)
        else:
            assert nxt is None, r.headers.get("Link")
            break
        nxt = urllib.parse.urljoin(url(c.tasks), nxt)
        assert urllib.parse.urlsplit(nxt).path.rstrip("/") == c.tasks
        r = c.get(nxt)
        assert r.status_code == 200, r.text
    assert seen == want


def test_next_link_keeps_the_filters(seeded):
    c, tasks, _ = seeded
    pending = {i for i, t in tasks.items() if not t["completed"]}
    r = c.list({"status": "pending", "sort": "priority", "limit": 3})
    got = ids_of(r)
    for _ in range(10):
        if not link_target(r, "next"):
            break
        r = c.get(urllib.parse.urljoin(url(c.tasks), link_target(r, "next")))
        assert r.status_code == 200, r.text
        got += ids_of(r)
    assert sorted(got) == sorted(pending)
    assert len(got) == len(set(got))


def test_next_link_stays_one_uri_whatever_the_query_holds(seeded):
    # Unknown parameters are kept as sent, but what a URI may not hold is
    # escaped: a '>' or '"' must not end the Link's <...> early.
    c, _, _ = seeded
    status, headers, _ = raw_request(
        "GET", f"/api/{c.user}/tasks?limit=1&x=a>b;c,d\"e<f", token=c.token)
    assert status == 200
    m = re.fullmatch(r'<(/api/[^<>" ]*)>; rel="next"', headers["Link"])
    assert m, headers["Link"]
    status, _, body = raw_request("GET", m.group(1), token=c.token)
    assert status == 200 and len(json.loads(body)) == 1


def test_no_next_link_when_the_page_reaches_the_end(seeded):
    c, tasks, _ = seeded
    n = len(tasks)
    assert link_target(c.list({"limit": n}), "next") is None
    assert link_target(c.list({"limit": n - 1}), "next") is not None
    assert link_target(c.list({"limit": 2, "offset": n - 2}), "next") is None


@pytest.mark.parametrize("sort", ["created", "updated", "title", "due_date", "priority"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_sort_walks_every_task_once_by_cursor(seeded, sort, order):
    # Tasks without a due date come last both ways; ties broken by id.
    c, tasks, _ = seeded
    want = expected(tasks, sort, order)
    r = c.list({"sort": sort, "order": order, "limit": 2})
    seen = ids_of(r)
    while link_target(r, "next"):
        nxt = link_target(r, "next")
        assert "cursor=" in nxt and "offset=" not in nxt, nxt
        r = c.get(nxt)
        assert r.status_code == 200, r.text
        assert r.headers["X-Total-Count"] == str(len(tasks))
        seen += ids_of(r)
    assert seen == want


def test_a_cursor_page_does_not_shift_when_tasks_are_added_or_removed(api):
    made = [api.create(f"t{i}")["id"] for i in range(6)]
    r = api.list({"limit": 3})
    assert ids_of(r) == made[::-1][:3]
    nxt = link_target(r, "next")
    api.create("newer")                             # would shift an offset by one
    assert api.delete(made[5]).status_code == 204    # ... and back, on page 1
    assert api.delete(made[0]).status_code == 204    # on page 2: simply gone
    r = api.get(nxt)
    assert ids_of(r) == [made[2], made[1]]
    assert r.headers["X-Total-Count"] == "5"


@pytest.mark.parametrize("cursor", [
    "not!base64", "", "MTEuNDI", "eA", "MDAuNDIuMTc2NA",  # "00.42.1764": created asc
])
def test_a_cursor_not_made_for_this_listing_is_422_and_changes_nothing(seeded, cursor):
    c, _, _ = seeded
    with DB.unchanged(c.user):
        r = c.get("", params={"cursor": cursor})        # sort=created desc
    assert_validation(r, ["query", "cursor"], "value_error")


def test_a_cursor_of_another_sort_is_422(seeded):
    c, _, _ = seeded
    nxt = link_target(c.list({"sort": "title", "limit": 1}), "next")
    cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query)["cursor"][0]
    assert c.get("", params={"sort": "title", "cursor": cursor}).status_code == 200
    for other in ({"sort": "title", "order": "desc"}, {"sort": "created"}, {}):
        assert_validation(c.get("", params={**other, "cursor": cursor}),
                          ["query", "cursor"], "value_error")


def test_aliases_of_priority_tags_and_due_range_filter_as_the_names(seeded):
    c, _, _ = seeded
    for alias, name in [({"priority_filter": "high"}, {"priority": "high"}),
                        ({"tags_filter": "home,shop"}, {"tags": "home,shop"}),
                        ({"due_date_from": "2026-11-26", "due_date_to": "2026-12-31"},
                         {"due_after": "2026-11-26", "due_before": "2026-12-31"})]:
        want = c.list(name)
        got = c.list(alias)
        assert ids_of(got) == ids_of(want) and ids_of(want), (alias, ids_of(want))
        assert got.headers["X-Total-Count"] == want.headers["X-Total-Count"]


@pytest.mark.parametrize("name, value, type_", [
    ("limit", "0", "greater_than_equal"),
    ("limit", "-1", "greater_than_equal"),
    ("limit", "1001", "less_than_equal"),
    ("limit", "x", "int_parsing"),
    ("limit", "1.5", "int_parsing"),
    ("offset", "-1", "greater_than_equal"),
    ("offset", "x", "int_parsing"),
])
def test_bad_limit_or_offset_is_422(seeded, name, value, type_):
    c, _, _ = seeded
    assert_validation(c.get("", params={name: value}), ["query", name], type_)


def test_limit_bounds_are_accepted(seeded):
    c, tasks, _ = seeded
    assert len(c.list({"limit": 1}).json()) == 1
    assert len(c.list({"limit": 1000}).json()) == len(tasks)
    assert len(c.list({"offset": 0}).json()) == len(tasks)


def test_default_page_is_100(api):
    for i in range(101):
        api.create(f"t{i:03d}")
    r = api.list()
    assert len(r.json()) == 100
    assert r.headers.get("X-Total-Count") == "101"
    nxt = link_target(r, "next")
    assert nxt
    last = api.get(urllib.parse.urljoin(url(api.tasks), nxt))
    assert last.status_code == 200
    assert [t["title"] for t in last.json()] == ["t000"]


def test_listing_shows_only_ones_own_tasks(seeded, api):
    c, tasks, _ = seeded
    mine = api.create("mine")
    assert ids_of(api.list()) == [mine["id"]]
    assert set(ids_of(c.list())) == set(tasks)
