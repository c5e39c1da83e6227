"""The API fuzzed from its own OpenAPI document (schemathesis), against a live server on DuckDB and on PostgreSQL,
with real tokens: no answer is a server error, every answer matches the document (status, headers, content type,
body), data outside the document is refused, no write succeeds without permission, and a write succeeds only on the
version it names (a stale If-Match is always 412).

Each operation gets a few generated requests that keep to the document and a few that break it; half of them are
aimed at records that exist and name their current ETag, so that fuzzing reaches the writes. The failed-token
counters are cleared before each request (they are tested in test_api.py): an unknown token, which the document's
own checks send, would otherwise lock the test's address out after thirty.
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CheckContext
from schemathesis.config import SchemathesisConfig

from customercard.store import Store

from .api_support import serve_api
from .conftest import BACKENDS, copy_database

WRITES = {"POST", "PATCH", "DELETE"}
#: A field of each kind that takes any one-line text: an aimed PATCH sometimes changes just that one.
FREE_TEXT = {"customers": "nickname", "contacts": "notes", "comments": "body", "events": "description",
             "opportunities": "title", "follow-ups": "what"}
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö ", min_size=1, max_size=30).map(str.strip).filter(bool)
POSITIVE_EXAMPLES = 6
NEGATIVE_EXAMPLES = 4
#: The checks run on every answer (schemathesis' own, by name).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
          "unsupported_method", "ignored_auth")
#: A stale If-Match is refused with 412 before the body is read for its fields: a request breaking the document in
#: its body and naming a stale version gets 412, which is right (RFC 9110 §13.2.1) and is a refusal all the same.
#: If-Match missing is 428 (Precondition Required, RFC 6585), which schemathesis' missing-header check does not
#: know, so that check is left out and 428 is asserted in test_api.py.
CONFIG = {"checks": {"negative_data_rejection": {"expected-statuses": [
    "400", "401", "403", "404", "405", "409", "412", "413", "415", "422", "428", "429"]}}}


def _checks() -> list:
    from schemathesis import checks as builtin
    from schemathesis.specs.openapi import checks as openapi

    found = []
    for name in CHECKS:
        check = getattr(builtin, name, None) or getattr(openapi, name)
        found.append(check)
    return found


@pytest.fixture(params=BACKENDS)
def fuzzed(request, demo_template, tmp_path):
    """A live server on a private copy of the demo database, on each backend."""
    if request.param == "duckdb":
        store = Store(copy_database(demo_template, tmp_path / "db"))
        name = None
    else:
        pg = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("demo_template_pg")
        name = f"fuzz_{tmp_path.name[-20:]}".replace("-", "_").lower()
        store = Store(pg.create_database(name, template=template))
    served = serve_api(store)
    yield served
    served.server.stop()
    store.close()
    if name:
        request.getfixturevalue("pg_server").sql(f'DROP DATABASE "{name}" WITH (FORCE)')


def _ids(store: Store) -> dict[str, list[int]]:
    """Ids that exist, per path parameter's meaning, to aim some requests at."""
    def column(sql: str) -> list[int]:
        return [int(row[0]) for row in store.db.rows(sql)][:12]
    if not column("SELECT id FROM follow_ups"):  # the demo has none: one to aim at
        first = column("SELECT id FROM customers ORDER BY id")[0]
        follow_up = store.new_follow_up(first, owner="anna")
        follow_up.what = "A follow-up to aim at"
        store.add_follow_up(follow_up, user="anna")
    return {"customers": column("SELECT id FROM customers ORDER BY id"),
            "follow-ups": column("SELECT id FROM follow_ups ORDER BY id DESC"),
            **{table: column(f"SELECT id FROM {table} ORDER BY id DESC") for table in (
                "contacts", "comments", "events", "opportunities", "relations", "projects")},
            "changes": column("SELECT id FROM customer_changes WHERE field = 'phone' ORDER BY id")}


def _writes_total(store: Store) -> tuple[int, ...]:
    """What any write adds to: the rows of every table a write reaches, and the history."""
    return (*(int(store.db.row(f"SELECT count(*) FROM {table}")[0]) for table in (
        "customers", "customer_changes", "record_changes", "contacts", "comments", "events", "opportunities",
        "relations", "follow_ups")),
        int(store.db.row("SELECT coalesce(max(version), 0) + sum(version) FROM customers")[0]))


def _aim(case, ids: dict[str, list[int]], draw) -> None:
    """Point the case's path at records that exist (customer, record of its kind, a change of that customer)."""
    path = case.operation.path
    kind = path.split("/")[3]
    for name in case.path_parameters or {}:
        pool = ids["customers" if name == "customer_id" else "changes" if name == "change_id" else kind]
        if pool:
            case.path_parameters[name] = draw(st.sampled_from(pool))


def _current_etag(base: str, case, token: str) -> str | None:
    """The ETag the case's record has now (for restore: its customer's)."""
    path = case.formatted_path
    target = path.split("/history/")[0] if "/history/" in path else path
    answer = requests.get(base + target, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return answer.headers.get("ETag")


def _known_cases(operation, fuzzed, ids: dict[str, list[int]]) -> list[tuple[object, int]]:
    """Requests that must succeed (a valid change on the version read; a valid new record) and the same change on
    a stale version (412), each checked against the document like the generated ones."""
    method, path = operation.method.upper(), operation.path
    kind = path.split("/")[3]
    store = fuzzed.store
    if method == "PATCH":
        number = ids["customers" if kind == "customers" else kind][0]
        where = {"customer_id" if kind == "customers" else "record_id": number}
        body = {"fields": {FREE_TEXT[kind]: f"known {kind} change"}}
        now = _current_etag(fuzzed.url, operation.Case(path_parameters=where), fuzzed.tokens.manager)
        return [(operation.Case(path_parameters=where, headers={"If-Match": '"v0"'}, body=body), 412),
                (operation.Case(path_parameters=where, headers={"If-Match": now}, body=body), 200)]
    if method != "POST" or not path.endswith(tuple(f"/{k}" for k in (*FREE_TEXT, "relations"))):
        return []
    customer, other = ids["customers"][:2]
    relation_type = store.list_values("relation_types", include_inactive=False)["label"][0]
    body = {"customers": {"name": "Known Fuzz AB"}, "contacts": {"last_name": "Known"},
            "comments": {"body": "A known comment."}, "events": {"title": "Known", "starts_at": "2026-07-01T09:00:00Z"},
            "opportunities": {"title": "Known"}, "follow-ups": {"what": "Known", "due_on": "2026-07-01"},
            "relations": {"relation_type": relation_type, "other_customer_id": other}}[path.rsplit("/", 1)[1]]
    where = {} if path.endswith("/customers") else {"customer_id": customer}
    return [(operation.Case(path_parameters=where, body={"fields": body}), 201)]


def write_only_on_the_version_named(ctx: CheckContext, response, case) -> None:
    """A write that succeeded named the version it changed: its If-Match is the ETag before (or, changing nothing,
    the same one after)."""
    if case.method.upper() not in WRITES or response.status_code >= 300 or case.operation.path.endswith(
            ("/customers", "/contacts", "/comments", "/events", "/opportunities", "/relations", "/follow-ups")):
        return  # a creation names no version
    sent = (case.headers or {}).get("If-Match", "")
    found = {name.lower(): value for name, value in response.headers.items()}.get("etag")
    if found is None:  # every write that succeeded answers the record's new ETag, but a removal (204)
        assert case.method.upper() == "DELETE", (case.method, case.formatted_path)
        now = '"v1"'  # a removed relation: relations stay at version 1
    else:
        now = found[0] if isinstance(found, list) else found
    number = int(re.fullmatch(r'"v(\d+)"', now).group(1))
    allowed = {now, f'"v{number - 1}"'}
    assert any(tag.strip() in allowed for tag in sent.split(",")), \
        f"{case.method} succeeded with If-Match {sent!r}, but the record was at {allowed}"


def test_the_api_keeps_its_document_and_its_rules_under_fuzzing(fuzzed):
    base = fuzzed.url
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json",
                                           config=SchemathesisConfig.from_dict(CONFIG))
    ids = _ids(fuzzed.store)
    checks = _checks()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    token = fuzzed.tokens.manager
    seen: dict[int, int] = {}
    written: list[tuple[str, str]] = []
    for operation in operations:
        for mode, examples in ((schemathesis.GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
                               (schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def fuzz(case, data) -> None:
                fuzzed.store.db.execute("DELETE FROM login_throttle")
                positive = case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE
                if positive and data.draw(st.booleans(), label="aimed"):
                    _aim(case, ids, data.draw)
                    if "If-Match" in (case.headers or {}) and data.draw(st.booleans(), label="current"):
                        current = _current_etag(base, case, token)
                        if current:
                            case.headers["If-Match"] = current
                        kind = case.operation.path.split("/")[3]
                        if case.method.upper() == "PATCH" and data.draw(st.booleans(), label="one text field"):
                            case.body = {"fields": {FREE_TEXT[kind]: data.draw(WORDS, label="text")}}
                response = case.call(base_url=base, headers={"Authorization": f"Bearer {token}"})
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if case.method.upper() in WRITES and response.status_code < 300:
                    written.append((case.method, case.operation.path))
                case.validate_response(response, checks=checks,
                                       additional_checks=[write_only_on_the_version_named],
                                       headers={"Authorization": f"Bearer {token}"},
                                       transport_kwargs={"base_url": base})
            try:
                fuzz()
            except Unsatisfiable:  # nothing in the request can break the document (GET /api/v1/me)
                assert mode == schemathesis.GenerationMode.NEGATIVE
        for case, expected in _known_cases(operation, fuzzed, ids):
            response = case.call(base_url=base, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == expected, (case.method, case.formatted_path, response.text)
            case.validate_response(response, checks=checks, additional_checks=[write_only_on_the_version_named],
                                   headers={"Authorization": f"Bearer {token}"}, transport_kwargs={"base_url": base})
            if expected < 300:
                written.append((case.method, case.operation.path))
    assert not [status for status in seen if status >= 500], seen
    assert seen.get(200) and seen.get(404) and seen.get(412) and seen.get(422), seen  # it reached the logic
    assert {method for method, _path in written} >= {"POST", "PATCH"}, written


@pytest.mark.parametrize("who", ["read_only", "viewer"])
def test_no_write_succeeds_without_permission_under_fuzzing(fuzzed, who):
    base = fuzzed.url
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json",
                                           config=SchemathesisConfig.from_dict(CONFIG))
    ids = _ids(fuzzed.store)
    token = getattr(fuzzed.tokens, who)
    before = _writes_total(fuzzed.store)
    statuses = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in WRITES:
            continue

        @settings(max_examples=5, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), data=st.data())
        def fuzz(case, data) -> None:
            _aim(case, ids, data.draw)
            if "If-Match" in (case.headers or {}):
                current = _current_etag(base, case, fuzzed.tokens.manager)
                if current:
                    case.headers["If-Match"] = current
            response = case.call(base_url=base, headers={"Authorization": f"Bearer {token}"})
            statuses.add(response.status_code)
            assert response.status_code in (400, 403, 404, 413, 415, 422), (case.method, case.formatted_path,
                                                                            response.status_code, response.text)
        fuzz()
    assert 403 in statuses
    assert _writes_total(fuzzed.store) == before
