"""Bad input is refused with the right status and shape, and changes nothing."""

import json

import pytest

from helpers import assert_validation, detail, json_body, validation_errors

DUE = "2026-11-30T17:00:00Z"

# (case id, body, loc of the error, pydantic type or None when API.md and the
# decisions leave the type open)
CREATE_CASES = [
    ("title missing", {"description": "x"}, ["body", "title"], "missing"),
    ("title number", {"title": 123}, ["body", "title"], "string_type"),
    ("title bool", {"title": True}, ["body", "title"], "string_type"),
    ("title list", {"title": ["x"]}, ["body", "title"], "string_type"),
    ("title null", {"title": None}, ["body", "title"], None),
    ("title empty", {"title": ""}, ["body", "title"], "string_too_short"),
    ("title blank", {"title": "  \t\n "}, ["body", "title"], "string_too_short"),
    ("title 201", {"title": "x" * 201}, ["body", "title"], "string_too_long"),
    ("title NUL", {"title": "a\u0000b"}, ["body", "title"], None),
    ("description number", {"title": "x", "description": 5}, ["body", "description"],
     "string_type"),
    ("description 1001", {"title": "x", "description": "d" * 1001},
     ["body", "description"], "string_too_long"),
    ("description NUL", {"title": "x", "description": "\u0000"}, ["body", "description"],
     None),
    ("completed string", {"title": "x", "completed": "true"}, ["body", "completed"],
     "bool_type"),
    ("completed number", {"title": "x", "completed": 1}, ["body", "completed"], "bool_type"),
    ("completed null", {"title": "x", "completed": None}, ["body", "completed"], None),
    ("priority unknown", {"title": "x", "priority": "urgent"}, ["body", "priority"], "enum"),
    ("priority case", {"title": "x", "priority": "High"}, ["body", "priority"], "enum"),
    ("priority number", {"title": "x", "priority": 2}, ["body", "priority"], None),
    ("priority null", {"title": "x", "priority": None}, ["body", "priority"], None),
    ("tags string", {"title": "x", "tags": "a"}, ["body", "tags"], "list_type"),
    ("tags object", {"title": "x", "tags": {"a": 1}}, ["body", "tags"], "list_type"),
    ("tags null", {"title": "x", "tags": None}, ["body", "tags"], None),
    ("tag number", {"title": "x", "tags": [1]}, ["body", "tags", 0], "string_type"),
    ("tag null", {"title": "x", "tags": ["a", None]}, ["body", "tags", 1], "string_type"),
    ("tags 21", {"title": "x", "tags": [f"t{i}" for i in range(21)]}, ["body", "tags"],
     "too_long"),
    ("tag 51", {"title": "x", "tags": ["ok", "x" * 51]}, ["body", "tags", 1],
     "string_too_long"),
    ("tag empty", {"title": "x", "tags": [""]}, ["body", "tags", 0], "string_too_short"),
    ("tag blank", {"title": "x", "tags": ["ok", "   "]}, ["body", "tags", 1],
     "string_too_short"),
    ("tag NUL", {"title": "x", "tags": ["a\u0000"]}, ["body", "tags", 0], None),
    ("due_date number", {"title": "x", "due_date": 1700000000}, ["body", "due_date"], None),
    ("due_date words", {"title": "x", "due_date": "tomorrow"}, ["body", "due_date"],
     "datetime_parsing"),
    ("due_date month 13", {"title": "x", "due_date": "2026-13-01T00:00:00Z"},
     ["body", "due_date"], None),
    ("due_date hour 25", {"title": "x", "due_date": "2026-11-30T25:00:00Z"},
     ["body", "due_date"], None),
    ("due_date Feb 30", {"title": "x", "due_date": "2026-02-30T00:00:00Z"},
     ["body", "due_date"], None),
    ("due_date no minutes", {"title": "x", "due_date": "2026-11-30T17"},
     ["body", "due_date"], None),
    ("due_date fraction without seconds", {"title": "x", "due_date": "2026-11-30T17:00.5"},
     ["body", "due_date"], None),
    ("due_date hour offset", {"title": "x", "due_date": "2026-11-30T17:00+01"},
     ["body", "due_date"], None),
    ("due_date object", {"title": "x", "due_date": {}}, ["body", "due_date"], None),
    ("recurrence unknown", {"title": "x", "due_date": DUE, "recurrence": "hourly"},
     ["body", "recurrence"], "enum"),
    ("recurrence number", {"title": "x", "due_date": DUE, "recurrence": 1},
     ["body", "recurrence"], None),
]


@pytest.mark.parametrize("body, loc, type_",
                         [c[1:] for c in CREATE_CASES], ids=[c[0] for c in CREATE_CASES])
def test_create_rejects(api, user, db, body, loc, type_):
    api.create("existing")
    with db.unchanged(user):
        r = api.post(json=body)
    assert_validation(r, loc, type_)


def test_recurrence_without_due_date_is_rejected(api, user, db):
    with db.unchanged(user):
        r = api.post(json={"title": "x", "recurrence": "daily"})
    items = validation_errors(r)
    assert all(it["loc"][0] == "body" for it in items), items


def test_recurrence_with_null_due_date_is_rejected(api, user, db):
    with db.unchanged(user):
        r = api.post(json={"title": "x", "recurrence": "weekly", "due_date": None})
    validation_errors(r)


def test_every_error_of_a_body_is_reported(api, user, db):
    with db.unchanged(user):
        r = api.post(json={"title": 123, "priority": "urgent", "tags": "a"})
    items = validation_errors(r)
    locs = [it["loc"] for it in items]
    for loc in (["body", "title"], ["body", "priority"], ["body", "tags"]):
        assert loc in locs, locs


@pytest.mark.parametrize("raw", ["[]", '[{"title": "x"}]', '"x"', "1", "true"])
def test_body_that_is_not_an_object_is_rejected(api, user, db, raw):
    with db.unchanged(user):
        r = api.post(data=raw.encode(), headers={"Content-Type": "application/json"})
    assert_validation(r, ["body"], "model_attributes_type")


def test_json_null_body_is_rejected(api, user, db):
    with db.unchanged(user):
        r = api.post(data=b"null", headers={"Content-Type": "application/json"})
    items = validation_errors(r)
    assert items[0]["loc"][0] == "body"


@pytest.mark.parametrize("raw", [
    r'{"title\u0000junk": "x"}',                    # json-c read it as "title"
    r'{"title": "a", "completed\u0000": true}',     # ... and this as completed
    r'{"title": "a", "x": {"\u0000": 1}}',          # anywhere in the body
])
def test_an_object_key_holding_nul_is_422_and_changes_nothing(api, user, db, raw):
    with db.unchanged(user):
        r = api.post(data=raw.encode(), headers={"Content-Type": "application/json"})
    assert_validation(r, ["body"], "string_unicode")
    task = api.create("kept")
    with db.unchanged(user):
        r = api.put(task["id"], data=r'{"completed\u0000": true}'.encode(),
                    headers={"Content-Type": "application/json"})
    assert_validation(r, ["body"], "string_unicode")


def test_empty_body_on_create_is_missing(api, user, db):
    with db.unchanged(user):
        r = api.post(data=b"")
    assert_validation(r, ["body"], "missing")


# --------------------------------------------------------------------------
# Updates


UPDATE_CASES = [
    ("title null", {"title": None}, ["body", "title"]),
    ("title empty", {"title": ""}, ["body", "title"]),
    ("title number", {"title": 1}, ["body", "title"]),
    ("title NUL", {"title": "\u0000"}, ["body", "title"]),
    ("completed string", {"completed": "false"}, ["body", "completed"]),
    ("priority unknown", {"priority": "urgent"}, ["body", "priority"]),
    ("tags 21", {"tags": [str(i) for i in range(21)]}, ["body", "tags"]),
    ("tag 51", {"tags": ["y" * 51]}, ["body", "tags", 0]),
    ("description 1001", {"description": "\U0001F600" * 1001}, ["body", "description"]),
    ("due_date number", {"due_date": 1700000000}, ["body", "due_date"]),
    ("recurrence unknown", {"recurrence": "hourly"}, ["body", "recurrence"]),
]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("body, loc", [c[1:] for c in UPDATE_CASES],
                         ids=[c[0] for c in UPDATE_CASES])
def test_update_rejects(api, user, db, method, body, loc):
    t = api.create("x", description="d", due_date=DUE)
    with db.unchanged(user):
        r = api.request(method, t["id"], json=body)
    assert_validation(r, loc)
    assert api.fetch(t["id"]) == t


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_with_valid_and_invalid_fields_changes_nothing(api, user, db, method):
    t = api.create("x")
    with db.unchanged(user):
        r = api.request(method, t["id"], json={"title": "fine", "priority": "urgent"})
    assert_validation(r, ["body", "priority"])
    assert api.fetch(t["id"])["title"] == "x"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("raw", ["[]", '"x"', "1"])
def test_update_body_that_is_not_an_object_is_rejected(api, user, db, method, raw):
    t = api.create("x")
    with db.unchanged(user):
        r = api.request(method, t["id"], data=raw.encode(),
                        headers={"Content-Type": "application/json"})
    assert_validation(r, ["body"], "model_attributes_type")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_clearing_due_date_of_a_recurring_task_is_rejected(api, user, db, method):
    t = api.create("Water plants", due_date=DUE, recurrence="daily")
    with db.unchanged(user):
        r = api.request(method, t["id"], json={"due_date": None})
    items = validation_errors(r)
    assert all(it["loc"][0] == "body" for it in items), items
    assert api.fetch(t["id"])["due_date"] == DUE


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_adding_recurrence_to_a_task_without_due_date_is_rejected(api, user, db, method):
    t = api.create("x")
    with db.unchanged(user):
        r = api.request(method, t["id"], json={"recurrence": "monthly"})
    validation_errors(r)
    assert api.fetch(t["id"])["recurrence"] is None


RECURRENCE_RULE = [
    # (stored due date, body, the whole 422 body)
    (DUE, {"due_date": None},
     [{"type": "value_error", "loc": ["body", "due_date"],
       "msg": "Value error, a recurring task needs a due_date"}]),
    (DUE, {"due_date": None, "recurrence": "weekly"},
     [{"type": "value_error", "loc": ["body", "recurrence"],
       "msg": "Value error, a recurrence needs a due_date"}]),
    (None, {"recurrence": "monthly", "title": "renamed"},
     [{"type": "value_error", "loc": ["body", "recurrence"],
       "msg": "Value error, a recurrence needs a due_date"}]),
]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("due, body, expected", RECURRENCE_RULE,
                         ids=["clear due", "clear due, set recurrence", "recurrence only"])
def test_recurrence_rule_on_update_answers_exactly(api, user, db, method, due, body,
                                                   expected):
    # The error names the field the client got wrong, and nothing is written.
    t = api.create("x", due_date=due, recurrence="daily" if due else None)
    tag = api.get(t["id"]).headers["ETag"]
    with db.unchanged(user):
        r = api.request(method, t["id"], json=body, headers={"If-Match": tag})
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": expected}
    assert api.get(t["id"]).headers["ETag"] == tag


@pytest.mark.parametrize("body", [{"completed": "yes"}, {"completed": None},
                                  {"completed": 1}])
def test_complete_with_a_bad_body_is_rejected(api, user, db, body):
    t = api.create("x")
    with db.unchanged(user):
        r = api.patch(f"{t['id']}/complete", json=body)
    assert_validation(r, ["body", "completed"])


# --------------------------------------------------------------------------
# Bodies that are not JSON, not UTF-8, not declared as JSON, or too large


BAD_JSON = [
    ("trailing comma", b'{"title": "x",}'),
    ("truncated", b'{"title": '),
    ("single quotes", b"{'title': 'x'}"),
    ("bare word", b"hello"),
    ("trailing garbage", b'{"title": "x"} x'),
    ("two objects", b'{"title": "x"}{"title": "y"}'),
    ("NaN", b'{"title": "x", "n": NaN}'),
    ("raw NUL in string", b'{"title": "a\x00b"}'),
    ("comment", b'{"title": "x" /* c */}'),
]


@pytest.mark.parametrize("raw", [c[1] for c in BAD_JSON], ids=[c[0] for c in BAD_JSON])
def test_invalid_json_is_400(api, user, db, raw):
    with db.unchanged(user):
        r = api.post(data=raw, headers={"Content-Type": "application/json"})
    items = validation_errors(r, 400)
    assert any(it["type"] == "json_invalid" and it["loc"][0] == "body" for it in items), items


@pytest.mark.parametrize("raw", [
    b'{"title": "caf\xe9"}',                 # Latin-1, not UTF-8
    b'{"title": "\xff\xfe"}',
    b'{"title": "\xc0\xaf"}',                # overlong encoding of '/'
    b'{"title": "\xed\xa0\x80"}',            # UTF-16 surrogate encoded as UTF-8
    b'{"title": "\xe2\x82"}',                # truncated sequence
], ids=["latin1", "ff-fe", "overlong", "surrogate", "truncated"])
def test_invalid_utf8_is_400(api, user, db, raw):
    with db.unchanged(user):
        r = api.post(data=raw, headers={"Content-Type": "application/json"})
    items = validation_errors(r, 400)
    assert any(it["type"] == "json_invalid" and it["loc"][0] == "body" for it in items), items


def test_invalid_json_on_update_is_400(api, user, db):
    t = api.create("x")
    with db.unchanged(user):
        r = api.put(t["id"], data=b'{"title": "y"', headers={"Content-Type": "application/json"})
    items = validation_errors(r, 400)
    assert items[0]["type"] == "json_invalid"


def test_deeply_nested_unknown_field_does_not_break_the_server(api):
    raw = b'{"title": "deep", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = api.post(data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code in (201, 400), r.text
    json_body(r)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/xml"])
def test_wrong_content_type_is_415(api, user, db, ctype):
    with db.unchanged(user):
        r = api.post(data=json.dumps({"title": "x"}).encode(), headers={"Content-Type": ctype})
    assert detail(r, 415) == "Unsupported Media Type"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_wrong_content_type_on_update_is_415(api, user, db, method):
    t = api.create("x")
    with db.unchanged(user):
        r = api.request(method, t["id"], data=b'{"title": "y"}',
                        headers={"Content-Type": "text/plain"})
    assert detail(r, 415) == "Unsupported Media Type"


def test_structured_json_content_type_is_accepted(api):
    r = api.post(data=b'{"title": "x"}', headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 201, r.text


BIG = 64 * 1024


def big_body(size):
    """A JSON task body of exactly `size` bytes (its description too long)."""
    head, tail = b'{"title": "big", "description": "', b'"}'
    return head + b"d" * (size - len(head) - len(tail)) + tail


def test_body_over_64_kib_is_413(api, user, db):
    with db.unchanged(user):
        r = api.post(data=big_body(BIG + 1), headers={"Content-Type": "application/json"})
    assert isinstance(detail(r, 413), str)


def test_much_larger_body_is_413(api, user, db):
    with db.unchanged(user):
        r = api.post(data=big_body(300 * 1024), headers={"Content-Type": "application/json"})
    assert isinstance(detail(r, 413), str)


def test_chunked_body_over_64_kib_is_413(api, user, db):
    body = big_body(BIG + 4096)

    def chunks():
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    with db.unchanged(user):
        r = api.post(data=chunks(), headers={"Content-Type": "application/json"})
    assert isinstance(detail(r, 413), str)


def test_update_body_over_64_kib_is_413(api, user, db):
    t = api.create("x")
    with db.unchanged(user):
        r = api.put(t["id"], data=big_body(BIG + 100),
                    headers={"Content-Type": "application/json"})
    assert isinstance(detail(r, 413), str)


def test_body_of_exactly_64_kib_is_read_and_validated(api, user, db):
    with db.unchanged(user):
        r = api.post(data=big_body(BIG), headers={"Content-Type": "application/json"})
    assert_validation(r, ["body", "description"], "string_too_long")


def test_json_body_without_content_type_is_read_as_json(api, user, db):
    # FastAPI reads a body that names no media type as JSON; so do we.
    r = api.post(data=b'{"title": "no header"}', headers={"Content-Type": None})
    assert r.status_code == 201, r.text
    assert [t["title"] for t in db.snapshot(user)] == ["no header"]
