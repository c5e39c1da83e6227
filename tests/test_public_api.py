"""The public API that notebooks, later issues and acceptance checks rely on."""

import customercard as cc

PUBLIC = {
    "Address", "Choices", "Comment", "Config", "ConflictError", "Contact", "ContactCard", "Criterion", "Customer",
    "CustomerCard", "CustomerCardError", "CustomerList", "CustomerQuery", "Event", "FieldConflict", "Invoice",
    "InvoiceDefaults",
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
