"""The public API that notebooks, later issues and acceptance checks rely on."""

import customercard as cc

PUBLIC = {
    "Address", "BulkChange", "Choices", "Comment", "Config", "ConflictError", "Contact", "ContactCard", "Criterion",
    "Customer",
    "CustomerCard", "CustomerCardError", "CustomerList", "CustomerQuery", "Event", "FieldConflict", "FollowUp",
    "Invoice", "InvoiceDefaults",
    "NotFound", "Opportunity", "PermissionDenied", "Project", "Relation", "RemoteStore", "SavedView", "Settings",
    "Store",
    "TooManyAttempts", "User", "ValidationError", "WriteConflict", "__version__", "acting_user", "connect",
    "get_config", "invoiced_chart", "open_store",
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
    # the argument names it shows are the method's own: a call by keyword, as written there, works
    misnamed = []
    for name, arguments in re.findall(r"`([a-z_]+)\(([^`]*)\)`", "\n".join(first_cells)):
        parameters = inspect.signature(getattr(cc.Store, name)).parameters
        for written in arguments.split(","):
            argument = written.split("=")[0].strip().lstrip("*")
            if argument and "…" not in argument and argument not in parameters:
                misnamed.append(f"{name}({argument})")
    assert misnamed == []


def test_the_readme_examples_name_store_methods():
    """The README's notebook example and its 'Also' list name methods Store has."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    called = set(re.findall(r"store\.([a-z_]+)\(", readme))
    assert called and called <= _public_store_members()


def _called_names(source: str) -> tuple[set[str], set[str]]:
    """(names called as ``x.name(…)``, names read as ``x.name``) in one test file's code — not its comments or
    strings, so a method only mentioned in a docstring does not count."""
    import ast

    called: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            called.add(node.func.attr)
        elif isinstance(node, ast.Attribute):
            read.add(node.attr)
    return called, read


def test_every_public_store_method_is_called_by_a_test():
    """A static scan of tests/*.py: every public method of Store is called (``.name(``) and every property read
    (``.name``) somewhere, so a method without a test cannot slip in (issue 17)."""
    from pathlib import Path

    called: set[str] = set()
    read: set[str] = set()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        in_file, read_in_file = _called_names(path.read_text(encoding="utf-8"))
        called |= in_file
        read |= read_in_file
    members = _public_store_members()
    properties = {name for name in members if isinstance(getattr(cc.Store, name), property)}
    assert properties >= {"changes", "schema_version"}
    untested = sorted(name for name in members - properties if name not in called)
    unread = sorted(name for name in properties if name not in read and name not in called)
    assert untested + unread == [], "public Store members no test calls: " + ", ".join(untested + unread)


def test_the_scan_sees_calls_and_not_mentions():
    """The scan counts a call in code, a property read in code, and neither in a comment or a string."""
    called, read = _called_names('store.customer_exists(1)  # store.is_empty()\nx = store.changes\n'
                                 '"""store.borrowed()"""\n')
    assert "customer_exists" in called and "changes" in read
    assert not {"is_empty", "borrowed"} & (called | read)


def test_the_readme_analyst_block_runs_as_written(demo_template, tmp_path, monkeypatch):
    """The README's notebook example, pasted as it is, on a copy of the demo database (CUSTOMERCARD_DB)."""
    import re
    from pathlib import Path

    from .conftest import copy_database

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## For analysts.*?```python\n(.*?)```", readme, re.S).group(1)
    database = copy_database(demo_template, tmp_path)
    monkeypatch.setenv("CUSTOMERCARD_DB", str(database))
    names: dict = {}
    exec(compile(block, "README.md", "exec"), names)  # our own README's example
    store = names["store"]
    try:
        assert store.get_customer(42).phone == "+46 8 123 45 67"
    finally:
        store.close()
