"""The JSON API enforces the model's limits like the card: a message per field, nothing stored (the real app
served in this process, a logged-in HTTP client)."""

from __future__ import annotations

from .conftest import rich_customers
from .test_deploy import Client


def test_the_api_refuses_overlong_texts_and_control_characters_with_the_models_messages(live_server):
    store = live_server.store
    customer_id = rich_customers(store)[5]
    before = store.get_customer(customer_id)
    client = Client(live_server.url)
    status, body = client.patch(customer_id, before.version, {"name": "N" * 100_000, "nickname": "Nul\u0000"})
    assert status == 422
    assert body["errors"]["name"] == "At most 200 characters."
    assert "U+0000" in body["errors"]["nickname"]
    after = store.get_customer(customer_id)
    assert (after.name, after.nickname, after.version) == (before.name, before.nickname, before.version)
