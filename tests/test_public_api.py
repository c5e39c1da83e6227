"""The public API that notebooks, later issues and acceptance checks rely on."""

import customercard as cc

PUBLIC = {
    "Address", "Choices", "Comment", "Config", "ConflictError", "Contact", "ContactCard", "Criterion", "Customer",
    "CustomerCard", "CustomerCardError", "CustomerList", "CustomerQuery", "Event", "FieldConflict", "FollowUp",
    "Invoice", "InvoiceDefaults",
    "NotFound", "Opportunity", "PermissionDenied", "Project", "Relation", "RemoteStore", "Settings", "Store", "User",
    "ValidationError", "__version__", "acting_user", "connect", "get_config", "invoiced_chart", "open_store",
}
STORE_METHODS = {
    "get_customer", "save_customer", "create_customer", "history", "invoiced_per_year", "sql", "comments",
    "add_comment", "contacts", "projects", "restore", "backup", "users", "settings",
}


def test_all_is_pinned():
    assert set(cc.__all__) == PUBLIC


def test_store_offers_the_documented_methods():
    assert set(dir(cc.Store)) >= STORE_METHODS


def test_error_hierarchy():
    for error in (cc.ValidationError, cc.ConflictError, cc.NotFound, cc.PermissionDenied):
        assert issubclass(error, cc.CustomerCardError)


def _public_store_members() -> set[str]:
    return {name for name in dir(cc.Store) if not name.startswith("_")}


def test_every_public_store_method_is_documented():
    """Every public member of Store is in docs/store-api.md and says what it does: a new one cannot slip in
    unseen, and one taken away breaks this test before it breaks a notebook."""
    import inspect
    import re
    from pathlib import Path

    reference = (Path(__file__).resolve().parents[1] / "docs" / "store-api.md").read_text(encoding="utf-8")
    first_cells = [line.split("|")[1] for line in reference.splitlines() if line.startswith("| `")]
    listed = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)(?:\(|`)", cell)}
    members = _public_store_members()
    assert members - listed == set(), "public Store members missing from docs/store-api.md"
    assert listed - members == set(), "docs/store-api.md names methods Store does not have"
    undocumented = {name for name in members if not (inspect.getdoc(getattr(cc.Store, name)) or "").strip()}
    assert undocumented == set()


def test_the_readme_examples_name_store_methods():
    """The README's notebook example and its 'Also' list name methods Store has."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    called = set(re.findall(r"store\.([a-z_]+)\(", readme))
    assert called and called <= _public_store_members()
