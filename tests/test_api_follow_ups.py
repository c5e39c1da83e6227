"""Follow-ups in the HTTP API (/api/v1), on a live server on DuckDB and on PostgreSQL: made for a colleague,
listed on the customer, changed with If-Match (a stale change is refused with the fields changed meanwhile),
refused to a viewer and a read-only token, and there when the CRM module is switched off."""

from __future__ import annotations

import datetime as dt

from .test_api import api, customer_ids, problem, served  # noqa: F401 (served: the module's live server)


def test_follow_ups_through_the_api(served):  # noqa: F811
    store = served.store
    customer = customer_ids(served)[7]
    client = api(served)
    due = (store.firm_today() - dt.timedelta(days=1)).isoformat()
    made = client.post(f"/customers/{customer}/follow-ups", {"fields": {"what": "Call <them>", "due_on": due,
                                                                        "owner": "erik"}})
    assert made.status == 201 and made.headers["ETag"] == '"v1"', made.body
    body = made.json()
    assert body["fields"]["what"] == "Call <them>" and body["fields"]["owner"] == "erik"
    assert made.headers["Location"] == f"/api/v1/follow-ups/{body['id']}"
    listed = client.get(f"/customers/{customer}/follow-ups").json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert set(problem(client.post(f"/customers/{customer}/follow-ups", {"fields": {"owner": "nobody"}}),
                       422)["errors"]) >= {"what", "owner"}
    # one bad field is the only one named: the owner left out is the caller, as a good request shows
    assert set(problem(client.post(f"/customers/{customer}/follow-ups", {"fields": {
        "what": "Call", "due_on": "2026-02-30"}}), 422)["errors"]) == {"due_on"}

    path = made.headers["Location"]
    bare = problem(client.call("PATCH", path, {"done": True}, {"If-Match": '"v1"'}), 422)  # not inside "fields"
    assert '{"fields": {"done": "…"}}' in bare["errors"]["done"]
    done = client.patch(path, {"done": True}, if_match='"v1"')
    assert done.status == 200 and done.json()["fields"]["done"] is True and done.headers["ETag"] == '"v2"'
    assert store.get_follow_up(body["id"]).done_by == "anna"
    stale = problem(client.patch(path, {"what": "Too late"}, if_match='"v1"'), 412)
    assert [c["field"] for c in stale["conflicts"]] == ["done"]
    assert problem(client.patch(path, {"what": "No tag"}), 428)
    assert problem(api(served, "viewer").patch(path, {"done": False}, if_match='"v2"'), 403)
    assert problem(api(served, "read_only").patch(path, {"done": False}, if_match='"v2"'), 403)

    settings = store.settings()
    settings.crm_enabled = False
    store.save_settings(settings, user="admin")
    try:  # not part of the CRM module
        assert client.get(path).status == 200
    finally:
        settings = store.settings()
        settings.crm_enabled = True
        store.save_settings(settings, user="admin")
