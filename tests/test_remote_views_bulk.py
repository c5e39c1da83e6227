"""Saved views and bulk changes through a running server (the RemoteStore): the same checks as embedded."""

from __future__ import annotations

import pytest

from customercard.errors import PermissionDenied, ValidationError
from customercard.models import SavedView

from .test_remote_store import remote, served  # noqa: F401 - the fixtures


def test_views_and_a_bulk_change_travel(remote, served):  # noqa: F811 - the fixtures
    view = remote.save_view(SavedView(name="Remote one", search="q=a", shared=True), user="anna")
    assert view.id and view.version == 1 and view.owner == "anna"
    assert [v.name for v in remote.views(user="erik")] == ["Remote one"]
    with pytest.raises(PermissionDenied):
        remote.delete_view(view.id, user="erik")
    ids = [int(i) for i in served.store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id DESC "
                                            "LIMIT 5")["id"]]
    preview = remote.bulk_preview(ids, "account_manager", "kari", user="anna")
    assert preview["total"] == 5
    batch = remote.bulk_change(ids, "account_manager", "kari", user="anna", versions=preview["versions"])
    assert batch.customers == preview["change"]
    assert {served.store.get_customer(i).account_manager for i in ids} == {"kari"}
    assert remote.get_bulk_change(batch.id).customers == batch.customers
    undone = remote.undo_bulk_change(batch.id, user="anna")
    assert undone.customers == batch.customers
    with pytest.raises(ValidationError):
        remote.bulk_change(ids, "account_manager", "nobody", user="anna")


def test_what_a_bulk_change_left_alone_is_keyed_by_customer_id_as_embedded(remote, served):  # noqa: F811
    ids = [int(i) for i in served.store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id DESC "
                                            "LIMIT 3")["id"]]
    preview = remote.bulk_preview(ids, "account_manager", "erik", user="anna")
    moved = served.store.get_customer(ids[0])
    moved.nickname = "Changed after the preview"
    served.store.save_customer(moved, user="kari")
    batch = remote.bulk_change(ids, "account_manager", "erik", user="anna", versions=preview["versions"])
    assert list(batch.skipped) == [ids[0]] and ids[0] in batch.skipped  # an int, as the store gives it
    assert "changed" in batch.skipped[ids[0]]
