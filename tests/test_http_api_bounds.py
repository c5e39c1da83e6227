"""Bounds and rules the HTTP APIs held only in part, found on a live server: a JSON number too large for a float or
for the database was a 500 (``/api/v1`` and the store's API), an id too long for the database was Tornado's bare 500
on ``/api/customers/<id>`` and ``/files/<id>``, and projects access was the ``/project`` page's alone (the API gave
the same user the whole project, its description included)."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

import customercard as cc
from customercard.store import Store

from .api_support import Api, serve_api
from .conftest import BACKENDS, copy_database, rich_customers
from .http_client import Client
from .test_api import problem

JSON = {"Content-Type": "application/json"}
#: An id too long for the database (40 digits).
LONG_ID = "9" * 40
PROJECTS_REFUSED = "You do not have access to projects."


_databases = iter(range(1, 10**6))


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, demo_template, tmp_path_factory):
    """A live server on a private copy of the demo database, on each backend; with a token of erik too (a manager
    without projects access)."""
    name = None
    if request.param == "duckdb":
        store = Store(copy_database(demo_template, tmp_path_factory.mktemp("http_api_bounds")))
    else:
        pg = request.getfixturevalue("pg_server")
        name = f"api_bounds_{next(_databases)}_{id(request)}"
        store = Store(pg.create_database(name, template=request.getfixturevalue("demo_template_pg")))
    served = serve_api(store)
    served.tokens.erik = store.create_token("erik", "tests: manager without projects access", user="erik")[1]
    yield served
    served.server.stop()
    store.close()
    if name:
        request.getfixturevalue("pg_server").sql(f'DROP DATABASE "{name}" WITH (FORCE)')


class Raw(str):
    """A value written into a JSON body as it is: a number json.dumps cannot write (1 and 400 zeros, 1e999)."""


#: A JSON integer too large for a float (and for any database), and one as small.
HUGE, MINUS_HUGE = Raw("1" + "0" * 400), Raw("-1" + "0" * 400)


def fields_body(fields: dict[str, object]) -> str:
    """``{"fields": {...}}`` as JSON text, each :class:`Raw` value written as it is."""
    pairs = (f"{json.dumps(name)}: {value if isinstance(value, Raw) else json.dumps(value)}"
             for name, value in fields.items())
    return '{"fields": {' + ", ".join(pairs) + "}}"


def send(served, method: str, path: str, fields: dict[str, object], headers: dict[str, str] | None = None):
    """A manager's request with these fields (their values as :func:`fields_body` writes them)."""
    return Api(served.url, token=served.tokens.manager).call(method, path, raw=fields_body(fields).encode(),
                                                               headers={**JSON, **(headers or {})})


def rpc(served, token: str, method: str, arguments: dict):
    body = json.dumps({"arguments": arguments}).encode()
    return Client(served.url).request("POST", f"/api/v1/rpc/{method}", body=body,
                                      headers={"Authorization": f"Bearer {token}", **JSON})


def field_errors(reply) -> dict[str, str]:
    body = problem(reply, 422)
    return body["errors"]


# -- 1. numbers too large for a float or for the database -------------------------------------------------------------
def test_a_number_too_large_for_a_float_or_the_database_is_refused_for_its_field(served):
    """10**400 in a number field failed in the API's own check (OverflowError), and in an id field inside the
    database (DuckDB: too large for a 128-bit integer): 500 "Something went wrong", for the caller's mistake."""
    customer_id = rich_customers(served.store)[0]
    client = Api(served.url, token=served.tokens.manager)
    read = client.get(f"/customers/{customer_id}")
    version = read.json()["version"]
    tag = read.headers["ETag"]
    made = patch = f"/customers/{customer_id}"
    for value, said in ((HUGE, "Must be at most 20,000."), (MINUS_HUGE, "Must be at least 0."),
                        (Raw("1e999"), "Must be at most 20,000.")):
        reply = send(served, "PATCH", patch, {"default_distance_km": value}, {"If-Match": tag})
        assert field_errors(reply) == {"default_distance_km": said}, value
    reply = send(served, "PATCH", patch, {"invoicing.vat_rate": HUGE}, {"If-Match": tag})
    assert field_errors(reply) == {"invoicing.vat_rate": "Must be at most 100."}
    assert served.store.get_customer(customer_id).version == version  # nothing saved

    errors = field_errors(send(served, "POST", f"{made}/opportunities", {"title": "x", "amount": HUGE,
                                                                         "probability": HUGE}))
    assert errors["amount"] == "Not a number that can be kept: it is too large."
    assert errors["probability"] == "Must be at most 100."
    follow_up = {"what": "x", "owner": "anna", "due_on": "2026-07-01"}
    errors = field_errors(send(served, "POST", f"{made}/follow-ups", {**follow_up, "contact_id": HUGE,
                                                                      "opportunity_id": MINUS_HUGE}))
    assert errors == {"contact_id": "Must be at most 9,223,372,036,854,775,807.",
                      "opportunity_id": "Must be at least -9,223,372,036,854,775,807."}
    relation_type = served.store.list_values("relation_types")["label"].iloc[0]
    errors = field_errors(send(served, "POST", f"{made}/relations", {"relation_type": relation_type,
                                                                     "other_customer_id": HUGE}))
    assert errors == {"other_customer_id": "Must be at most 9,223,372,036,854,775,807."}
    errors = field_errors(send(served, "POST", f"{made}/events", {"title": "x", "starts_at": "2026-07-01T10:00:00Z",
                                                                  "contact_ids": Raw(f"[{HUGE}]")}))
    assert errors["contact_ids"] == "Must be at most 9,223,372,036,854,775,807."
    # within what the database keeps, an id of nothing is still the store's to refuse, in its words
    errors = field_errors(send(served, "POST", f"{made}/follow-ups", {**follow_up, "contact_id": 2**62}))
    assert errors == {"contact_id": "Choose a contact person of this customer."}


def test_the_store_api_refuses_a_whole_number_the_database_cannot_keep_for_its_parameter(served):
    """``get_customer(customer_id=10**40)`` through a token was the server's failure (500), from inside DuckDB."""
    customer_id = rich_customers(served.store)[0]
    reply = rpc(served, served.tokens.manager, "get_customer", {"customer_id": 10**40})
    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY, reply.body[:300]
    assert reply.json()["error"]["errors"] == {"customer_id": "Must be at most 9,223,372,036,854,775,807."}
    follow_up = cc.FollowUp(customer_id=customer_id, what="x", owner="anna", contact_id=10**40)
    with pytest.raises(cc.ValidationError) as refused:
        cc.connect(served.url, token=served.tokens.manager).add_follow_up(follow_up)
    assert refused.value.errors == {"contact_id": "Must be at most 9,223,372,036,854,775,807."}
    assert rpc(served, served.tokens.manager, "get_customer", {"customer_id": 2**62}).status == HTTPStatus.NOT_FOUND


# -- 2. ids too long for the database on the older addresses ---------------------------------------------------------
def test_an_id_too_long_for_the_database_is_not_found_on_the_older_api_and_the_file_address(served):
    browser = Client(served.url)
    assert browser.log_in("vera", "demo").status == HTTPStatus.FOUND
    for customer_id in ("999999", LONG_ID):
        reply = browser.get(f"/api/customers/{customer_id}")
        assert reply.status == HTTPStatus.NOT_FOUND, reply.body[:200]
        assert reply.json() == {"error": f"No customer with id {customer_id}."}
    for file_id in ("999999", LONG_ID):
        reply = browser.get(f"/files/{file_id}")
        assert reply.status == HTTPStatus.NOT_FOUND and "There is no file at this address" in reply.body, file_id
    manager = Client(served.url)
    assert manager.log_in("anna", "demo").status == HTTPStatus.FOUND
    assert manager.patch_customer(int(LONG_ID), 1, {"phone": "+46 8 123 45 67"}).status == HTTPStatus.NOT_FOUND
    reply = manager.request("PATCH", f"/api/customers/{rich_customers(served.store)[0]}", headers=JSON,
                            body=f'{{"version": {HUGE}, "changes": {{"phone": "+46 8 123 45 67"}}}}'.encode())
    assert reply.status == HTTPStatus.BAD_REQUEST and "Send JSON like" in reply.json()["error"]


# -- 3. projects access on every path --------------------------------------------------------------------------------
def a_project(served) -> tuple[int, int, str]:
    """(customer id, project id, its description) of a project with a description."""
    for customer_id in rich_customers(served.store):
        frame = served.store.projects(customer_id)
        described = frame[frame["description"].fillna("") != ""]
        if not described.empty:
            return customer_id, int(described["id"].iloc[0]), str(described["description"].iloc[0])
    raise AssertionError("the demo has no project with a description")


def test_without_projects_access_the_api_refuses_a_project_as_the_project_page_does(served):
    customer_id, project_id, description = a_project(served)
    page = Client(served.url)
    assert page.log_in("vera", "demo").status == HTTPStatus.FOUND
    assert page.get(f"/project?project={project_id}").status == HTTPStatus.FORBIDDEN  # the page's rule
    for who in ("viewer", "erik"):  # a viewer and a manager, both without projects access
        client = Api(served.url, token=getattr(served.tokens, who))
        assert problem(client.get(f"/projects/{project_id}"), 403)["detail"] == PROJECTS_REFUSED
        assert problem(client.get("/projects/999999"), 403)["detail"] == PROJECTS_REFUSED  # (says nothing of ids)
        listed = client.get(f"/customers/{customer_id}/projects").json()["items"]  # as the card lists them
        assert project_id in [p["id"] for p in listed]
        assert all("description" not in p["fields"] and p["fields"]["name"] for p in listed)
    cookies = Api(served.url, cookies=dict(page.cookies))  # the browser's login, as a page's script would ask
    assert problem(cookies.get(f"/projects/{project_id}"), 403)["detail"] == PROJECTS_REFUSED
    for who in ("manager", "read_only", "admin"):  # with projects access (a read-only token of theirs too)
        client = Api(served.url, token=getattr(served.tokens, who))
        reply = client.get(f"/projects/{project_id}")
        assert reply.status == HTTPStatus.OK and reply.json()["fields"]["description"] == description, who
        listed = client.get(f"/customers/{customer_id}/projects").json()["items"]
        assert description in [p["fields"]["description"] for p in listed]


def test_without_projects_access_the_store_api_refuses_a_project_and_lists_them_as_the_card(served):
    customer_id, project_id, description = a_project(served)
    reply = rpc(served, served.tokens.viewer, "get_project", {"project_id": project_id})
    assert reply.status == HTTPStatus.FORBIDDEN and reply.json()["error"]["message"] == PROJECTS_REFUSED
    notebook = cc.connect(served.url, token=served.tokens.erik)
    with pytest.raises(cc.PermissionDenied, match=PROJECTS_REFUSED):
        notebook.get_project(project_id)
    with pytest.raises(cc.PermissionDenied, match=PROJECTS_REFUSED):
        notebook.record_history("projects", project_id)
    listed, stored = notebook.projects(customer_id), served.store.projects(customer_id)
    assert list(listed.dtypes.astype(str)) == list(stored.dtypes.astype(str))  # the same columns, as they are
    assert list(listed["name"]) == list(stored["name"])
    assert listed["description"].isna().all()
    as_of = notebook.projects_as_of(customer_id, "2026-06-15")
    assert not as_of.empty and as_of["description"].isna().all()
    for token in (served.tokens.manager, served.tokens.read_only):
        allowed = cc.connect(served.url, token=token)
        assert allowed.get_project(project_id).description == description
        assert description in set(allowed.projects(customer_id)["description"])
        assert "field" in allowed.record_history("projects", project_id).columns  # (the demo's have none)


def test_without_projects_access_store_sql_reads_the_projects_without_their_descriptions(served):
    """store.sql through a token read every project's description (SELECT description FROM projects), and the
    history of each change to one: a user without projects access reads project_list and record_change_list."""
    customer_id = a_project(served)[0]
    made = served.store.create_project(cc.Project(customer_id=customer_id, name="Board audit",
                                                  description="Scope agreed: the board's audit"), user="anna")
    project_id, description = made.id, made.description
    for token in (served.tokens.erik, served.tokens.viewer):
        notebook = cc.connect(served.url, token=token)
        for query in ("SELECT id, description FROM projects", "SELECT * FROM record_changes",
                      "SELECT p.name FROM customers c JOIN projects p ON p.customer_id = c.id",
                      "WITH RECURSIVE projects AS (SELECT * FROM projects UNION ALL SELECT * FROM projects WHERE "
                      "false) SELECT description FROM projects",
                      "SELECT (SELECT max(description) FROM projects) AS d"):
            with pytest.raises(cc.CustomerCardError) as refused:
                notebook.sql(query)
            assert description not in str(refused.value) and "Scope agreed" not in str(refused.value)
        listed = notebook.sql("SELECT id, name FROM project_list WHERE customer_id = ?", [customer_id])
        assert project_id in set(listed["id"]) and "description" not in notebook.sql(
            "SELECT * FROM project_list LIMIT 1").columns
        history = notebook.sql("SELECT field, old_value, new_value FROM record_change_list WHERE table_name = "
                               "'projects' AND record_id = ?", [project_id])
        described = history[history["field"] == "description"]
        assert len(described) == 1 and described["new_value"].isna().all()  # that it was set, not the text
        assert "Board audit" in set(history["new_value"])  # the rest of the project's history as it is
        # a condition of one's own, whose error would quote the value it failed on, meets no description
        own_conditions = ["SELECT * FROM record_change_list WHERE CAST(new_value AS INTEGER) IS NULL",
                          "SELECT * FROM record_change_list WHERE table_name = 'projects' AND field = "
                          "'description' AND CAST(new_value AS INTEGER) > 0"]
        if served.store.db.dialect == "postgresql":  # its error quotes the text it was given
            own_conditions.append("SELECT * FROM record_change_list WHERE pg_size_bytes(new_value) IS NULL")
        for query in own_conditions:
            try:
                notebook.sql(query)
            except cc.CustomerCardError as exc:
                assert "Scope agreed" not in str(exc), query
        # the rest of store.sql as before
        assert notebook.sql("SELECT count(*) AS n FROM customers")["n"][0] > 0
    for token in (served.tokens.manager, served.tokens.read_only, served.tokens.admin):  # with projects access
        allowed = cc.connect(served.url, token=token)
        assert "Scope agreed: the board's audit" in set(allowed.sql(
            "SELECT description FROM projects WHERE id = ?", [project_id])["description"])
        assert "description" in set(allowed.sql(
            "SELECT field FROM record_changes WHERE table_name = 'projects' AND record_id = ?", [project_id])["field"])
