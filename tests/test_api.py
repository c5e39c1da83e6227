"""The HTTP API (/api/v1) as a script speaks to it, on a live server on DuckDB and on PostgreSQL: every resource,
ETag and If-Match (412 with the fields changed meanwhile, 428 without), permissions by role and read-only tokens,
the browser's cookie (no cross-site writes), problem details everywhere, the request budget (429), the throttle on
failed tokens, the OpenAPI document generated from the model and its docs page."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import urllib.parse

import jsonschema
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from customercard.errors import ValidationError
from customercard.fields import customer_fields
from customercard.http_api.openapi import parameter_schema
from customercard.models import Contact, Customer
from customercard.store import Store
from customercard.store.database import utcnow

from .api_support import Api, serve_api
from .conftest import BACKENDS, copy_database, rich_customers
from .http_client import Client

_databases = iter(range(1, 10**6))


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, demo_template, tmp_path_factory):
    """A live server with /api/v1 on a private copy of the demo database, on each backend."""
    name = None
    if request.param == "duckdb":
        store = Store(copy_database(demo_template, tmp_path_factory.mktemp("api")))
    else:
        pg = request.getfixturevalue("pg_server")
        name = f"api_{next(_databases)}_{id(request)}"
        store = Store(pg.create_database(name, template=request.getfixturevalue("demo_template_pg")))
    served = serve_api(store)
    yield served
    served.server.stop()
    store.close()
    if name:
        request.getfixturevalue("pg_server").sql(f'DROP DATABASE "{name}" WITH (FORCE)')


def api(served, who: str = "manager", **extra) -> Api:
    return Api(served.url, token=getattr(served.tokens, who), **extra)


def problem(reply, status: int) -> dict:
    """The reply is a problem detail (RFC 9457) with this status."""
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    body = reply.json()
    assert body["status"] == status and body["type"].startswith("/api/v1/docs#problem-")
    assert body["title"] and body["detail"] and body["instance"].startswith("/api")
    return body


def customer_ids(served) -> list[int]:
    """Living Swedish customers (the tests type Swedish numbers), the rich ones first; each test takes its own."""
    rich = rich_customers(served.store)
    return rich + [int(i) for i, in served.store.db.rows(
        "SELECT id FROM customers WHERE NOT archived AND visit_country = 'SE' ORDER BY id") if int(i) not in rich]


# -- the document and its page ---------------------------------------------------------------------------------------
def test_the_openapi_document_is_made_from_the_model(served):
    reply = Client(served.url).get("/api/v1/openapi.json")  # no login needed: it describes, it holds no data
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"] == "3.1.0" and len(doc["paths"]) >= 20
    jsonschema.Draft202012Validator(OPENAPI_31).validate(doc)  # the OpenAPI 3.1 meta-schema
    schemas = doc["components"]["schemas"]
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    fields = schemas["CustomerFields"]["properties"]
    assert list(fields) == [f.name for f in customer_fields()]  # every field of the registry, in its order
    for found in customer_fields():
        if found.max_length:
            assert fields[found.name]["maxLength"] == found.max_length
    assert fields["default_distance_km"]["minimum"] == 0 and fields["default_distance_km"]["maximum"] == 20000
    assert fields["name"]["maxLength"] == Customer.param["name"].metadata["max_length"]
    assert schemas["ContactFields"]["properties"]["notes"] == parameter_schema(Contact, "notes")
    assert schemas["EventFields"]["properties"]["status"]["enum"] == ["planned", "done", "cancelled"]
    assert schemas["EventFields"]["properties"]["starts_at"]["anyOf"][0]["format"] == "date-time"
    assert set(doc["components"]["securitySchemes"]) == {"bearerToken", "loginCookie"}
    swedish = Client(served.url).get("/api/v1/openapi.json", headers={"Accept-Language": "sv"}).json()
    assert swedish["components"]["schemas"]["CustomerFields"]["properties"]["name"]["title"] == "Namn"
    assert swedish["paths"].keys() == doc["paths"].keys()


def test_the_docs_page_is_the_document_drawn_on_the_server(served):
    reply = Client(served.url).get("/api/v1/docs")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "<script" not in reply.body.lower()  # no script at all
    doc = Client(served.url).get("/api/v1/openapi.json").json()
    for path, item in doc["paths"].items():
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in reply.body and f"<code>{path}</code>" in reply.body
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in reply.body
    for anchor in ("problem-stale", "problem-invalid", "problem-if-match-required", "problem-too-many-requests"):
        assert f'id="{anchor}"' in reply.body
    assert "http://" not in reply.body and "https://" not in reply.body.replace(
        "https://spec.openapis.org", "")  # nothing from elsewhere


# -- customers ---------------------------------------------------------------------------------------------------------
def test_the_customer_list_takes_the_filters_sorting_and_paging_of_search(served):
    client = api(served)
    reply = client.get("/customers?status=Active&sort=city&desc=true&per_page=7&page=2")
    assert reply.status == 200
    body = reply.json()
    from customercard.models import CustomerQuery

    frame, total = served.store.find_customers(CustomerQuery(statuses=["Active"]), limit=7, offset=7, sort="city",
                                               descending=True)
    assert [item["id"] for item in body["items"]] == list(frame["id"]) and body["total"] == total > 14
    assert reply.headers["X-Total-Count"] == str(total)
    links = dict((rel.split('"')[1], url.strip()[1:-1]) for url, rel in
                 (part.split(";") for part in reply.headers["Link"].split(",")))
    assert set(links) == {"first", "prev", "next", "last"}
    following = client.get(links["next"]).json()
    assert following["page"] == 3 and not {i["id"] for i in following["items"]} & {i["id"] for i in body["items"]}
    criterion, (_multiple, values) = next(iter(served.store.choices().criteria.items()))
    by_segment = client.get(f"/customers?segment={urllib.parse.quote(criterion)}:{urllib.parse.quote(values[0])}"
                            "&archived=all&per_page=200").json()
    as_on_search = client.get(f"/customers?seg.{urllib.parse.quote(criterion)}={urllib.parse.quote(values[0])}"
                              "&archived=all&per_page=200").json()
    assert by_segment == as_on_search and 0 < by_segment["total"] < served.store.find_customers(
        CustomerQuery(archived="all"))[1]
    errors = problem(client.get("/customers?sort=shoe_size&per_page=500&colour=red"), 400)["errors"]
    assert set(errors) == {"colour"}
    assert set(problem(client.get("/customers?sort=shoe_size"), 400)["errors"]) == {"sort"}
    assert set(problem(client.get("/customers?per_page=500"), 400)["errors"]) == {"per_page"}
    assert set(problem(client.get(f"/customers?q={'x' * 201}"), 400)["errors"]) == {"q"}


def test_a_misspelt_filter_value_is_said_not_answered_with_an_empty_page(served):
    client = api(served)
    store = served.store
    errors = problem(client.get("/customers?status=Activ&industry=Shipping%20%26%20port"), 400)["errors"]
    assert set(errors) == {"status", "industry"}
    assert "“Activ”" in errors["status"] and "Active" in errors["status"] and "“Shipping & port”" in errors["industry"]
    assert "“nobody”" in problem(client.get("/customers?manager=anna&manager=nobody"), 400)["errors"]["manager"]
    criterion, (_multiple, values) = next(iter(store.choices().criteria.items()))
    quoted = urllib.parse.quote(criterion)
    said = problem(client.get(f"/customers?segment={quoted}:Nonesuch"), 400)["errors"]["segment"]
    assert "“Nonesuch”" in said and values[0] in said
    assert "“Shoe size”" in problem(client.get("/customers?seg.Shoe%20size=42"), 400)["errors"]["segment"]
    # what the firm has, inactive or renamed since a bookmark was made, is found as before
    inactive = store.list_values("industries").iloc[-1]
    store.set_list_value_active(int(inactive["id"]), False, user="admin")
    try:
        reply = client.get(f"/customers?industry={urllib.parse.quote(inactive['label'])}&manager=vera&archived=all")
        assert reply.status == 200, reply.body
        assert client.get(f"/customers?segment={quoted}:{urllib.parse.quote(values[0])}").status == 200
    finally:
        store.set_list_value_active(int(inactive["id"]), True, user="admin")


def test_the_super_search(served):
    client = api(served)
    name = served.store.get_customer(customer_ids(served)[0]).name
    hits = client.get(f"/customers/search?q={urllib.parse.quote(name)}&limit=5").json()["items"]
    assert hits[0]["name"] == name and hits[0]["rank"] == "exact" and len(hits) <= 5
    assert problem(client.get("/customers/search"), 400)["errors"] == {"q": "1 to 200 characters."}


def test_reading_and_changing_a_customer_with_etag_and_if_match(served):
    store = served.store
    customer_id = customer_ids(served)[1]
    client = api(served)
    got = client.get(f"/customers/{customer_id}")
    assert got.status == 200 and got.headers["ETag"] == f'"v{got.json()["version"]}"'
    body = got.json()
    assert body["fields"]["name"] == store.get_customer(customer_id).name and body["id"] == customer_id
    assert body["updated_at"].endswith("Z")
    tag = got.headers["ETag"]

    assert problem(client.patch(f"/customers/{customer_id}", {"phone": "+46 8 111 22 33"}), 428)
    changed = client.patch(f"/customers/{customer_id}", {"phone": "+46 8 111 22 33", "visit_address.city": "Lund"},
                           if_match=tag)
    assert changed.status == 200 and changed.headers["ETag"] != tag
    assert changed.json()["fields"]["visit_address.city"] == "Lund"
    history = store.history(customer_id)
    assert set(history[history["version"] == changed.json()["version"]]["changed_by"]) == {"anna"}  # the token's

    stale = problem(client.patch(f"/customers/{customer_id}", {"phone": "+46 8 999 99 99"}, if_match=tag), 412)
    assert stale["current_etag"] == changed.headers["ETag"]
    conflict = {c["field"]: c for c in stale["conflicts"]}
    assert set(conflict) == {"phone", "visit_address.city"}
    assert conflict["phone"]["stored"] == "+46 8 111 22 33" and conflict["phone"]["attempted"] == "+46 8 999 99 99"
    assert conflict["phone"]["changed_by"] == "anna" and conflict["visit_address.city"]["attempted"] is None
    assert store.get_customer(customer_id).phone == "+46 8 111 22 33"
    assert problem(client.patch(f"/customers/{customer_id}", {"phone": "x"}, if_match="*"), 428)
    for unquoted in ("v1", 'W/"v1"', changed.headers["ETag"].strip('"')):  # no tag this API gives: said so
        wrong = problem(client.patch(f"/customers/{customer_id}", {"phone": "x"}, if_match=unquoted), 412)
        assert "names no version" in wrong["detail"] and "Changed by someone else" not in wrong["detail"], wrong

    invalid = problem(client.patch(f"/customers/{customer_id}", {
        "email": "not-an-address", "default_distance_km": -1, "name": "x" * 201, "shoe_size": 44, "archived": "yes"},
        if_match=changed.headers["ETag"]), 422)
    assert set(invalid["errors"]) == {"email", "default_distance_km", "name", "shoe_size", "archived"}
    assert "200" in invalid["errors"]["name"] and store.get_customer(customer_id).version == changed.json()["version"]
    swedish = api(served, language="sv").patch(f"/customers/{customer_id}", {"email": "nope"},
                                               if_match=changed.headers["ETag"])
    assert "e-post" in problem(swedish, 422)["errors"]["email"].lower() and swedish.headers["Content-Language"] == "sv"


def test_a_customer_merged_away_after_its_etag_was_read_is_refused_with_where(served):
    kept, gone = customer_ids(served)[40:42]
    client = api(served)
    tag = client.get(f"/customers/{gone}").headers["ETag"]
    served.store.merge_customers(kept, gone, user="erik")
    refused = problem(client.patch(f"/customers/{gone}", {"phone": "+46 8 111 22 33"}, if_match=tag), 403)
    assert "Make the change there" in refused["detail"] and "Changed by someone else" not in refused["detail"]


def test_bodies_that_are_not_json_objects_are_refused_with_a_problem(served):
    customer_id = customer_ids(served)[2]
    client = api(served)
    tag = client.get(f"/customers/{customer_id}").headers["ETag"]
    path = f"/api/v1/customers/{customer_id}"
    headers = {"If-Match": tag, "Content-Type": "application/json"}
    assert problem(client.call("PATCH", path, raw=b"{not json", headers=headers), 400)
    assert problem(client.call("PATCH", path, raw=b'{"fields": {"phone": NaN}}', headers=headers), 400)
    assert problem(client.call("PATCH", path, raw=b"[1, 2]", headers=headers), 400)
    assert problem(client.call("PATCH", path, raw=b"phone=1", headers={**headers, "Content-Type": "text/plain"}),
                   415)
    assert "1,000,000 bytes" in problem(client.call("PATCH", path, raw=b" " * 1_000_001, headers=headers), 413)[
        "detail"]
    assert set(problem(client.call("PATCH", path, {"fields": {}, "version": 3}, headers), 422)["errors"]) == {
        "version"}


def test_creating_a_customer(served):
    client = api(served)
    made = client.post("/customers", {"fields": {"name": "Made Through The API AB", "phone": "08-123 45 67"}})
    assert made.status == 201 and made.headers["ETag"] == '"v1"'
    body = made.json()
    assert made.headers["Location"] == f"/api/v1/customers/{body['id']}" and body["number"] > 0
    assert body["fields"]["phone"] == "+46 8 123 45 67"  # normalised by the model
    assert body["created_by"] == "anna" and client.get(made.headers["Location"]).json() == body
    assert set(problem(client.post("/customers", {"fields": {"phone": "x"}}), 422)["errors"]) == {"name", "phone"}


def test_history_and_restoring_a_value(served):
    store = served.store
    customer_id = customer_ids(served)[3]
    client = api(served)
    tag = client.get(f"/customers/{customer_id}").headers["ETag"]
    before = store.get_customer(customer_id).nickname
    changed = client.patch(f"/customers/{customer_id}", {"nickname": "Restorable"}, if_match=tag)
    entries = client.get(f"/customers/{customer_id}/history?field=nickname").json()["items"]
    newest = entries[0]
    assert (newest["new_value"], newest["changed_by"], newest["kind"]) == ("Restorable", "anna", "update")
    restore = f"/customers/{customer_id}/history/{newest['change_id']}/restore"
    assert problem(client.post(restore, {"which": "old"}, if_match=tag), 412)["conflicts"][0]["field"] == "nickname"
    assert problem(client.post(restore, {"which": "old"}), 428)
    assert problem(client.post(restore, {"which": "sideways"}, if_match=changed.headers["ETag"]), 422)
    back = client.post(restore, {"which": "old"}, if_match=changed.headers["ETag"])
    assert back.status == 200 and back.json()["fields"]["nickname"] == before
    assert client.get(f"/customers/{customer_id}/history").json()["items"][0]["kind"] == "restore"
    # a field never changed has an empty history; a name that is no field is a mistake, said (it was an empty list)
    assert client.get(f"/customers/{customer_id}/history?field=invoicing.their_reference").status == 200
    criterion = store.criteria()[0].name
    assert client.get(f"/customers/{customer_id}/history?field=segments.{criterion}").status == 200
    wrong = problem(client.get(f"/customers/{customer_id}/history?field=nick_name"), 400)
    assert "nick_name" in wrong["detail"] and wrong["errors"]["field"], wrong
    # a criterion the firm does not have (nor its name in another case, nor none) is no field either
    for name in ("segments.No%20such%20criterion", f"segments.{criterion.swapcase()}", "segments."):
        assert problem(client.get(f"/customers/{customer_id}/history?field={name}"), 400)["errors"]["field"], name
    assert problem(client.post(f"/customers/{customer_id}/history/1/restore", {}, if_match=back.headers["ETag"]),
                   404)


def test_invoicing(served):
    store = served.store
    customer_id = customer_ids(served)[0]
    client = api(served)
    yearly = client.get(f"/customers/{customer_id}/invoiced-per-year").json()["items"]
    expected = store.invoiced_per_year(customer_id)
    assert [(r["year"], r["amount"]) for r in yearly] == list(zip(expected["year"], expected["amount"], strict=True))
    everyone = client.get("/invoiced-per-year").json()["items"]
    assert [r["year"] for r in everyone] == list(store.invoiced_per_year()["year"])
    invoices = client.get(f"/customers/{customer_id}/invoices").json()["items"]
    assert len(invoices) == len(store.invoices(customer_id))
    assert dt.date.fromisoformat(invoices[0]["invoice_date"]) and isinstance(invoices[0]["amount_base"], float)
    assert problem(client.get("/customers/999999/invoices"), 404)


# -- the records beside customers ------------------------------------------------------------------------------------
NEW = {"contacts": {"first_name": "Api", "last_name": "Person", "email": "api.person@example.com"},
       "comments": {"body": "Written through the API."},
       "events": {"title": "Call from the API", "starts_at": "2026-07-01T09:00:00+02:00",
                  "ends_at": "2026-07-01T10:00:00+02:00"},
       "opportunities": {"title": "Deal from the API", "amount": 1000, "probability": 40}}
CHANGE = {"contacts": ("title", "CFO"), "comments": ("body", "Edited through the API."),
          "events": ("description", "Agenda: the API."), "opportunities": ("probability", 60)}


@pytest.mark.parametrize("kind", list(NEW))
def test_records_are_made_read_and_changed_on_the_version_read(served, kind):
    store = served.store
    customer_id = customer_ids(served)[4]
    client = api(served)
    made = client.post(f"/customers/{customer_id}/{kind}", {"fields": NEW[kind]})
    assert made.status == 201, made.body
    record = made.json()
    assert made.headers["Location"] == f"/api/v1/{kind}/{record['id']}" and made.headers["ETag"] == '"v1"'
    assert record["customer_id"] == customer_id and record["version"] == 1
    if kind == "events":
        assert record["fields"]["starts_at"] == "2026-07-01T07:00:00Z"  # times in UTC
    listed = client.get(f"/customers/{customer_id}/{kind}").json()["items"]
    assert record["id"] in [item["id"] for item in listed]
    got = client.get(f"/{kind}/{record['id']}")
    assert got.json() == record and got.headers["ETag"] == '"v1"'

    field, value = CHANGE[kind]
    changed = client.patch(f"/{kind}/{record['id']}", {field: value}, if_match='"v1"')
    assert changed.status == 200 and changed.headers["ETag"] == '"v2"' and changed.json()["fields"][field] == value
    stale = problem(client.patch(f"/{kind}/{record['id']}", {field: NEW[kind].get(field, "x")}, if_match='"v1"'), 412)
    assert [c["field"] for c in stale["conflicts"]] == [field] and stale["conflicts"][0]["changed_by"] == "anna"
    assert problem(client.patch(f"/{kind}/{record['id']}", {field: value}), 428)
    history = store.record_history(kind, record["id"])
    assert set(history["changed_by"]) == {"anna"} and list(history["kind"]) == ["update", *["create"] * (
        len(history) - 1)]
    assert problem(client.get(f"/{kind}/99999999"), 404) and problem(client.post(f"/customers/99999999/{kind}", {
        "fields": NEW[kind]}), 404)
    assert problem(client.post(f"/customers/{customer_id}/{kind}", {"fields": {"nonsense": 1}}), 422)
    # the errors name what is wrong, not what the store fills when it is not given (a comment's writer and day)
    wrong = problem(client.post(f"/customers/{customer_id}/{kind}", {"fields": {**NEW[kind], "nonsense": 1}}), 422)
    assert set(wrong["errors"]) == {"nonsense"}, wrong
    if kind == "comments":
        bad_day = {"fields": {"body": "x", "written_on": "2024-02-30"}}
        assert set(problem(client.post(f"/customers/{customer_id}/{kind}", bad_day), 422)["errors"]) == {"written_on"}
    if kind == "opportunities":  # a reason lost on an open one was answered 200 and dropped without a word
        refused = problem(client.patch(f"/{kind}/{record['id']}", {"lost_reason": "Too dear"}, if_match='"v2"'), 422)
        assert "lost_reason" in refused["errors"]
        lost = client.patch(f"/{kind}/{record['id']}", {"status": "lost", "lost_reason": "Too dear"}, if_match='"v2"')
        assert lost.status == 200 and lost.json()["fields"]["lost_reason"] == "Too dear"
        reopened = client.patch(f"/{kind}/{record['id']}", {**lost.json()["fields"], "status": "pipeline"},
                                if_match=lost.headers["ETag"])  # the record as read, sent back reopened
        assert reopened.status == 200 and reopened.json()["fields"]["lost_reason"] == ""


def test_relations_are_made_and_removed_with_if_match(served):
    store = served.store
    first, second = customer_ids(served)[5:7]
    client = api(served)
    relation_type = store.list_values("relation_types", include_inactive=False)["label"][0]
    made = client.post(f"/customers/{first}/relations", {"fields": {"relation_type": relation_type,
                                                                     "other_customer_id": second}})
    assert made.status == 201 and made.json()["created_by"] == "anna"
    relation_id = made.json()["id"]
    assert relation_id in [r["id"] for r in client.get(f"/customers/{second}/relations").json()["items"]]
    assert problem(client.delete(f"/relations/{relation_id}"), 428)
    assert problem(client.delete(f"/relations/{relation_id}", if_match='"v7"'), 412)
    assert client.delete(f"/relations/{relation_id}", if_match='"v1"').status == 204
    assert problem(client.get(f"/relations/{relation_id}"), 404)
    assert set(store.record_history("relations", relation_id)["kind"]) == {"create", "delete"}
    assert problem(client.post(f"/customers/{first}/relations", {"fields": {"relation_type": relation_type,
                                                                            "other_customer_id": first}}), 422)


def test_a_customer_s_relations_say_how_each_is_seen_from_it(served):
    """A "Parent company of" that another customer made came back on the subsidiary's list as a bare relation of
    that type, its customer_id the other one: a client could not tell the subsidiary from the parent. Each item
    says its direction and its name from this side, as the card does; the record itself stays as stored."""
    store = served.store
    first, second = customer_ids(served)[7:9]
    client = api(served)
    made = client.post(f"/customers/{first}/relations", {"fields": {"relation_type": "Parent company of",
                                                                     "other_customer_id": second}})
    assert made.status == 201, made.json()
    relation_id = made.json()["id"]
    try:
        parent = {r["id"]: r for r in client.get(f"/customers/{first}/relations").json()["items"]}[relation_id]
        child = {r["id"]: r for r in client.get(f"/customers/{second}/relations").json()["items"]}[relation_id]
        assert parent["seen_from"] == {"direction": "out", "label": "Parent company of"}
        assert child["seen_from"] == {"direction": "in", "label": "Subsidiary of"}
        assert child["fields"]["relation_type"] == "Parent company of" and child["customer_id"] == first
        assert "seen_from" not in client.get(f"/relations/{relation_id}").json()  # one record, no side
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Relation"]
        assert set(schema["properties"]["seen_from"]["properties"]) == {"direction", "label"}
        assert "seen_from" not in schema["required"]
    finally:
        store.remove_relation(relation_id, user="anna")


def test_projects_are_read_only_here(served):
    customer_id = next(i for i in customer_ids(served) if not served.store.projects(i).empty)
    client = api(served)
    projects = client.get(f"/customers/{customer_id}/projects").json()["items"]
    assert [p["id"] for p in projects] == list(served.store.projects(customer_id)["id"])
    one = client.get(f"/projects/{projects[0]['id']}")
    assert one.status == 200 and one.json()["fields"]["name"] == projects[0]["fields"]["name"]
    denied = problem(client.patch(f"/projects/{projects[0]['id']}", {"name": "x"}, if_match='"v1"'), 405)
    assert denied and client.call("PATCH", f"/projects/{projects[0]['id']}").headers["Allow"] == "GET"
    assert problem(client.post(f"/customers/{customer_id}/projects", {"fields": {"name": "x"}}), 405)


# -- who may do what ---------------------------------------------------------------------------------------------------
def test_viewers_and_read_only_tokens_read_and_change_nothing(served):
    store = served.store
    customer_id = customer_ids(served)[7]
    for who in ("viewer", "read_only"):
        client = api(served, who)
        got = client.get(f"/customers/{customer_id}")
        assert got.status == 200
        version = got.json()["version"]
        assert problem(client.patch(f"/customers/{customer_id}", {"phone": "+46 8 222 33 44"},
                                    if_match=got.headers["ETag"]), 403)
        assert problem(client.post("/customers", {"fields": {"name": "Not Allowed AB"}}), 403)
        assert problem(client.post(f"/customers/{customer_id}/comments", {"fields": {"body": "no"}}), 403)
        assert store.get_customer(customer_id).version == version
    me = api(served, "read_only").get("/me").json()
    assert me == {"login": "anna", "name": "Anna Berg", "email": me["email"], "role": "manager", "language": "",
                  "read_only": True, "authentication": "token"}
    assert "read-only" in problem(api(served, "read_only").post("/customers", {"fields": {}}), 403)["detail"]


def test_no_token_or_a_bad_one_is_401_and_other_paths_404_and_methods_405(served):
    for headers in ({}, {"Authorization": "Basic YW5uYTpkZW1v"}, {"Authorization": "Bearer"}):
        reply = Client(served.url).get("/api/v1/customers", headers=headers)
        assert problem(reply, 401) and reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert problem(Client(served.url).get("/api/v1/customers/1", headers={
        "Authorization": "Bearer cc_" + "n" * 43, "X-Forwarded-For": "198.51.100.200"}), 401)
    client = api(served)
    assert problem(client.get("/no/such/thing"), 404) and problem(client.get("/customers/-1"), 404)
    put = client.call("PUT", "/customers/1", {"fields": {}})
    assert problem(put, 405) and put.headers["Allow"] == "GET, PATCH"
    assert problem(client.call("DELETE", "/customers/1"), 405)
    for method in ("DELETE", "POST", "PUT"):  # said in the language asked for, whichever the method
        refused = problem(client.call(method, "/customers/1", headers={"Accept-Language": "sv"}), 405)
        assert refused["title"] != "Method not allowed", (method, refused)



def test_head_answers_what_get_does_without_the_body(served):
    """HEAD (curl -I, a link checker, a monitor) gets GET's status and headers — its length and ETag — and no body;
    it asks as GET does: no token, 401; a path without GET, 405."""
    customer_id = customer_ids(served)[2]
    client = api(served)
    got, head = client.get(f"/customers/{customer_id}"), client.call("HEAD", f"/customers/{customer_id}")
    assert (got.status, head.status) == (200, 200) and head.body == ""
    assert head.headers["ETag"] == got.headers["ETag"] and head.headers["Content-Type"] == got.headers["Content-Type"]
    assert int(head.headers["Content-Length"]) == len(got.body.encode())
    assert client.call("HEAD", "/customers/-1").status == 404
    refused = Client(served.url).request("HEAD", "/api/v1/customers")
    assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer") and refused.body == ""
    not_got = client.call("HEAD", f"/customers/{customer_id}/history/1/restore")  # POST only
    assert not_got.status == 405 and not_got.headers["Allow"] == "POST" and not_got.body == ""

def test_the_browser_login_reads_and_writes_but_not_from_another_site(served):
    customer_id = customer_ids(served)[8]
    browser = Client(served.url)
    assert browser.log_in("erik", "demo").status == 302
    cookies = Api(served.url, cookies=dict(browser.cookies))
    got = cookies.get(f"/customers/{customer_id}")
    assert got.status == 200 and cookies.get("/me").json()["authentication"] == "cookie"
    change = {"fields": {"phone": "+46 8 333 44 55"}}
    evil = cookies.call("PATCH", f"/customers/{customer_id}", change,
                        {"If-Match": got.headers["ETag"], "Origin": "https://evil.example"})
    assert "another site" in problem(evil, 403)["detail"]
    served.store.set_language("erik", "sv", by="erik")  # their own language: the refusal is in it too
    try:
        evil = cookies.call("PATCH", f"/customers/{customer_id}", change,  # (a browser asking for no language)
                            {"If-Match": got.headers["ETag"], "Origin": "https://evil.example", "Accept-Language": ""})
        assert evil.headers["Content-Language"] == "sv" and "another site" not in problem(evil, 403)["detail"]
    finally:
        served.store.set_language("erik", "", by="erik")
    form = cookies.call("PATCH", f"/customers/{customer_id}", raw=b"fields=1", headers={
        "If-Match": got.headers["ETag"], "Content-Type": "application/x-www-form-urlencoded",
        "Origin": served.url})
    assert problem(form, 415)
    mine = cookies.call("PATCH", f"/customers/{customer_id}", change,
                        {"If-Match": got.headers["ETag"], "Origin": served.url})
    assert mine.status == 200 and served.store.get_customer(customer_id).updated_by == "erik"
    old = browser.patch_customer(customer_id, mine.json()["version"], {"phone": "+46 8 333 44 56"})
    assert old.status == 200 and old.json()["version"] == mine.json()["version"] + 1  # /api/customers/<id> stays
    browser.get("/logout")
    assert problem(cookies.get(f"/customers/{customer_id}"), 401)


# -- limits ------------------------------------------------------------------------------------------------------------
def test_each_token_has_a_request_budget(budgeted):
    client = api(budgeted)
    assert [client.get("/me").status for _ in range(3)] == [200, 200, 200]
    refused = client.get("/me")
    assert problem(refused, 429) and 1 <= int(refused.headers["Retry-After"]) <= 20
    assert refused.headers["Content-Language"] == "en"
    budgeted.store.set_language("anna", "da", by="anna")  # the token's user's own language: the 429 is in it
    try:
        refused = client.get("/me", headers={"Accept-Language": ""})
        assert problem(refused, 429) and refused.headers["Content-Language"] == "da"
    finally:
        budgeted.store.set_language("anna", "", by="anna")
    assert api(budgeted, "viewer").get("/me").status == 200  # another token, another budget


def aged(store) -> None:
    """Move every growing delay into the past (not a lockout): the next try is weighed, not refused."""
    store.db.execute("UPDATE login_throttle SET last_failure_at = ? WHERE locked_until IS NULL",
                     [utcnow() - dt.timedelta(minutes=2)])


def test_failed_tokens_are_slowed_then_locked_per_address(served):
    store = served.store
    good = {"Authorization": f"Bearer {served.tokens.manager}"}
    client = Client(served.url, headers={"X-Forwarded-For": "198.51.100.81"})
    for attempt in range(10):
        assert problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer cc_{attempt:043d}"}), 401)
        aged(store)
    assert problem(client.get("/api/v1/me", headers={"Authorization": "Bearer cc_" + "1" * 43}), 401)
    slowed = client.get("/api/v1/me", headers=good)  # the next try waits, the right token too
    assert problem(slowed, 429) and int(slowed.headers["Retry-After"]) >= 1
    for attempt in range(30):
        aged(store)
        client.get("/api/v1/me", headers={"Authorization": f"Bearer cc_{attempt:043d}"})
    locked = client.get("/api/v1/me", headers=good)
    assert "Too many failed attempts" in problem(locked, 429)["detail"] and int(locked.headers["Retry-After"]) > 60
    elsewhere = Client(served.url, headers={"X-Forwarded-For": "198.51.100.82", **good})
    assert elsewhere.get("/api/v1/me").status == 200
    log = store.admin_log(limit=500)
    here = log[log["item"].str.contains("198.51.100.81", regex=False)]
    assert (here["new_value"] == "unknown API token").sum() >= 30 and (here["area"] == "Logins").all()
    assert (here["new_value"] == "address locked for 15 minutes after 30 failed API token checks").sum() == 1
    store.db.execute("DELETE FROM login_throttle WHERE key LIKE ?", ["token-address:198.51.100.8%"])


def test_a_revoked_token_used_again_and_again_locks_its_accounts_tokens(served):
    store = served.store
    token, secret = store.create_token("maria", "old script", user="maria")
    _still, valid = store.create_token("maria", "new script", user="maria")
    store.revoke_token(token.id, user="maria")
    for attempt in range(10):
        client = Client(served.url, headers={"X-Forwarded-For": f"198.51.100.{90 + attempt}"})
        assert problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}), 401)
        aged(store)
    locked = Client(served.url, headers={"X-Forwarded-For": "198.51.100.120", "Authorization": f"Bearer {valid}"})
    assert problem(locked.get("/api/v1/me"), 429)
    assert api(served).get("/me").status == 200  # anna's tokens are not maria's
    log = store.admin_log(limit=500)
    assert ((log["item"].str.startswith("maria from")) & (log["new_value"] == "revoked API token")).sum() == 10
    assert (log["new_value"] == "account locked for 15 minutes after 10 failed API token checks").sum() == 1
    assert store.login_wait("maria") == 0  # the password login is not locked by a script's old token
    store.db.execute("DELETE FROM login_throttle WHERE key LIKE ?", ["token-%"])


def test_every_problem_is_json_in_the_readers_language(served):
    reply = Api(served.url, language="da").get("/customers")
    body = problem(reply, 401)
    assert reply.headers["Content-Language"] == "da" and body["title"] != "Authentication needed"
    assert json.loads(reply.body) == body


def test_without_the_crm_module_its_records_are_not_there(served):
    """The firm switches the CRM module off: events, opportunities and relations answer 404 (problem details),
    customers and contacts still answer; switched on again, they are back."""
    store = served.store
    customer = customer_ids(served)[5]
    settings = store.settings()
    settings.crm_enabled = False
    store.save_settings(settings, user="admin")
    try:
        manager = api(served)
        for path in (f"/api/v1/customers/{customer}/events", f"/api/v1/customers/{customer}/opportunities",
                     f"/api/v1/customers/{customer}/relations"):
            body = problem(manager.get(path), 404)
            assert "CRM" in body["detail"]
        assert manager.get(f"/api/v1/customers/{customer}").status == 200
        assert manager.get(f"/api/v1/customers/{customer}/contacts").status == 200
    finally:
        settings = store.settings()
        settings.crm_enabled = True
        store.save_settings(settings, user="admin")
    assert api(served).get(f"/api/v1/customers/{customer}/events").status == 200


@contextlib.contextmanager
def switched_off(store, setting: str):
    """The firm's switch ``setting`` off (as an administrator saves it) while within, on again after."""
    settings = store.settings()
    settings.param.update(**{setting: False})
    store.save_settings(settings, user="admin")
    try:
        yield
    finally:
        settings = store.settings()
        settings.param.update(**{setting: True})
        store.save_settings(settings, user="admin")



def test_the_country_filter_takes_a_code_or_a_name_and_refuses_what_is_no_country(served):
    """country=Sweden answered an empty page (the filter compared codes only); a name is its code now, and what is
    no country is a 400 naming the parameter, as a misspelt status is."""
    client = api(served)
    by_code = client.get("/customers?country=SE&per_page=5")
    assert by_code.status == 200 and by_code.json()["total"] > 0
    for name in ("Sweden", "sverige", "se"):
        same = client.get(f"/customers?country={name}&per_page=5")
        assert same.status == 200 and same.json()["total"] == by_code.json()["total"], name
    wrong = problem(client.get("/customers?country=Narnia"), 400)
    assert "Narnia" in wrong["errors"]["country"]

def test_with_nicknames_switched_off_the_api_neither_shows_sorts_by_nor_sets_them(served):
    """The card, Search customers and the super search left nicknames out while the firm had them switched off;
    the API still showed them, sorted by them, and took a new one (a customer gained a nickname while off)."""
    store = served.store
    customer_id = customer_ids(served)[4]
    client = api(served)
    with switched_off(store, "nicknames_enabled"):
        got = client.get(f"/customers/{customer_id}")
        assert got.status == 200 and "nickname" not in got.json()["fields"]
        listed = client.get("/customers?per_page=3")
        assert listed.status == 200 and all("nickname" not in item for item in listed.json()["items"])
        assert problem(client.get("/customers?sort=nickname"), 400)
        named = store.get_customer(customer_id).name.split()[0]
        found = client.get(f"/customers/search?q={urllib.parse.quote(named)}&limit=5")
        assert found.status == 200 and found.json()["items"]
        assert all("nickname" not in item for item in found.json()["items"])  # (the super search showed them)
        # what the API answers is what its document says, now: nothing of nicknames in either
        doc = Client(served.url).get("/api/v1/openapi.json").json()
        schemas = doc["components"]["schemas"]
        for schema, items in (("CustomerListItem", listed.json()["items"]), ("SearchHit", found.json()["items"])):
            whole = {**schemas[schema], "$defs": schemas}
            for item in items:
                jsonschema.validate(item, json.loads(json.dumps(whole).replace("#/components/schemas/", "#/$defs/")))
        assert "nickname" not in schemas["CustomerFields"]["properties"]
        sort = next(p for p in doc["paths"]["/api/v1/customers"]["get"]["parameters"] if p["name"] == "sort")
        assert "nickname" not in sort["schema"]["enum"] and "name" in sort["schema"]["enum"]
        refused = problem(client.patch(f"/customers/{customer_id}", {"nickname": "Set while off"},
                                       if_match=got.headers["ETag"]), 422)
        assert "switched nicknames off" in json.dumps(refused)
        assert client.patch(f"/customers/{customer_id}", {"phone": "+46 8 121 21 21"},
                            if_match=got.headers["ETag"]).status == 200  # other fields as ever
    assert "nickname" in client.get(f"/customers/{customer_id}").json()["fields"]
    schemas = Client(served.url).get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "nickname" in schemas["CustomerListItem"]["required"] and "nickname" in schemas["SearchHit"]["required"]


def test_with_invoice_addresses_switched_off_none_is_given_through_the_api_or_the_store(served):
    """The card hid the invoice address while the firm had it switched off; the API, the store and an import still
    took a new one."""
    store = served.store
    customer_id, other_id = [i for i in customer_ids(served)[6:] if not store.get_customer(i).use_invoice_address][:2]
    client = api(served)
    with switched_off(store, "invoice_address_enabled"):
        got = client.get(f"/customers/{customer_id}")
        refused = problem(client.patch(f"/customers/{customer_id}", {
            "use_invoice_address": True, "invoice_address.line1": "Box 12", "invoice_address.city": "Lund"},
            if_match=got.headers["ETag"]), 422)
        assert "switched separate invoice addresses off" in json.dumps(refused)
        assert not store.get_customer(customer_id).use_invoice_address
        assert client.patch(f"/customers/{customer_id}", {"phone": "+46 8 131 31 31"},
                            if_match=got.headers["ETag"]).status == 200  # other fields as ever
        customer = store.get_customer(other_id)
        customer.use_invoice_address = True
        customer.invoice_address.line1 = "Box 13"
        with pytest.raises(ValidationError, match="switched separate invoice addresses off"):
            store.save_customer(customer, user="anna")
    customer = store.get_customer(other_id)
    customer.use_invoice_address = True  # switched on again, but no address given
    with pytest.raises(ValidationError, match="Give the invoice address"):
        store.save_customer(customer, user="anna")
    customer.invoice_address.param.update(line1="Box 13", postal_code="222 22", city="Lund", country="SE")
    assert store.save_customer(customer, user="anna").billing_address.city == "Lund"


def test_a_patch_of_one_criterion_keeps_the_others(served):
    """PATCH {"segments": {"Services": [...]}} replaced the whole segmentation: the customer's other criteria were
    emptied without a word (and history said they were removed). Criteria not named are kept; one can be named as
    segments.<criterion>, and null clears it."""
    store, client = served.store, api(served)
    criteria = [c for c in store.criteria() if c.active and len(c.values) >= 2]
    first, second = criteria[0], criteria[1]
    customer_id = customer_ids(served)[7]
    customer = store.get_customer(customer_id)
    customer.segments = {first.name: [first.values[0]], second.name: [second.values[0]]}
    store.save_customer(customer, user="anna")
    tag = client.get(f"/customers/{customer_id}").headers["ETag"]
    changed = client.patch(f"/customers/{customer_id}", {"segments": {first.name: [first.values[1]]}}, if_match=tag)
    assert changed.status == 200, changed.body
    assert store.get_customer(customer_id).segments == {first.name: [first.values[1]], second.name: [second.values[0]]}
    changed = client.patch(f"/customers/{customer_id}", {f"segments.{second.name}": [second.values[1]]},
                           if_match=changed.headers["ETag"])
    assert changed.status == 200, changed.body
    assert store.get_customer(customer_id).segments == {first.name: [first.values[1]], second.name: [second.values[1]]}
    changed = client.patch(f"/customers/{customer_id}", {f"segments.{first.name}": None},
                           if_match=changed.headers["ETag"])
    assert changed.status == 200, changed.body
    assert store.get_customer(customer_id).segments == {second.name: [second.values[1]]}
    wrong = problem(client.patch(f"/customers/{customer_id}", {f"segments.{second.name}": 5},
                                 if_match=changed.headers["ETag"]), 422)
    assert f"segments.{second.name}" in wrong["errors"]
    unknown = problem(client.patch(f"/customers/{customer_id}", {"segmentsfoo": ["x"]},
                                   if_match=changed.headers["ETag"]), 422)
    assert unknown["errors"]["segmentsfoo"] == "Not a field you can set here."
    assert store.get_customer(customer_id).segments == {second.name: [second.values[1]]}
    # sent on an old version: the conflict names what was sent, as an object or as segments.<criterion>
    for sent in ({"segments": {second.name: [second.values[0]]}}, {f"segments.{second.name}": [second.values[0]]}):
        stale = problem(client.patch(f"/customers/{customer_id}", sent, if_match=tag), 412)
        conflict = {c["field"]: c for c in stale["conflicts"]}[f"segments.{second.name}"]
        assert (conflict["stored"], conflict["attempted"]) == ([second.values[1]], [second.values[0]]), conflict


def test_a_relation_to_a_contact_or_customer_that_cannot_be_related_names_the_field(served):
    """An unknown other_contact_id answered 404 (read as "customer 1 is not there") and a customer merged away 403
    "Add it there" (no permission problem; the advice was wrong): both are 422 naming the field now. An event's
    colleague or contact person named twice takes part once."""
    store = served.store
    first, second, third = customer_ids(served)[8:11]
    client = api(served)
    relation_type = store.list_values("relation_types", include_inactive=False)["label"][0]
    before = len(store.relations(first))
    unknown = problem(client.post(f"/customers/{first}/relations", {"fields": {
        "relation_type": relation_type, "other_contact_id": 99_999_999}}), 422)
    assert "contact person" in unknown["errors"]["other_contact_id"]
    store.merge_customers(second, third, user="admin")
    merged = problem(client.post(f"/customers/{first}/relations", {"fields": {
        "relation_type": relation_type, "other_customer_id": third}}), 422)
    assert "was merged into customer" in merged["errors"]["other_customer_id"]
    assert len(store.relations(first)) == before
    contact_id = int(store.contacts(first).iloc[0]["id"])
    made = client.post(f"/customers/{first}/events", {"fields": {
        "title": "Meet", "starts_at": "2027-01-01T10:00:00Z", "participants": ["anna", "anna", "erik"],
        "contact_ids": [contact_id, contact_id]}})
    assert made.status == 201, made.body
    assert made.json()["fields"]["participants"] == ["anna", "erik"]
    assert made.json()["fields"]["contact_ids"] == [contact_id]
