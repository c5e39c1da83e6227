"""The package's shape, which the next engineer builds on (docs/architecture.md): no module imports another that
imports it back, the store is a front over parts that reach only the parts they name, and the as-of view is the
same parts given an admin part that refuses writes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import customercard
from customercard import PermissionDenied
from customercard.store import PARTS, Store, assemble
from customercard.store.admin import AdminStore
from customercard.store.part import Part

PACKAGE = Path(customercard.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_by(name: str, type_only: bool = True) -> set[str]:
    """The package's modules ``name`` imports, at its top, inside a function, or for type checking only (unless
    ``type_only`` is False)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) and not type_only:
                continue  # annotations only: nothing is imported when the code runs
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, node.module] if node.module else base)
                submodules = {f"{target}.{alias.name}" for alias in node.names} & MODULES.keys()
                found.update(submodules or ({target} & MODULES.keys()))
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name in MODULES)
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    visit(inner)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    found.discard(name)
    return found


def test_the_import_finder_sees_relative_lazy_and_type_only_imports():
    assert {"customercard.store.backend", "customercard.store.logouts"} <= imported_by("customercard.store.admin")
    assert "customercard.ui.shell" in imported_by("customercard.page_kit")  # imported inside a function
    assert "customercard.store.admin" in imported_by("customercard.store.crm")  # for type checking only
    assert "customercard.store.admin" not in imported_by("customercard.store.crm", type_only=False)


def test_no_module_imports_one_that_imports_it_back():
    """Not even for type checking: the parts' annotations follow their dependencies, the API's handlers name what
    they need of a server as a Protocol (``http_api.base.Serving``)."""
    graph = {name: imported_by(name) for name in MODULES}
    both_ways = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets if a in graph[b]})
    assert both_ways == []


def test_each_part_comes_after_the_parts_it_uses():
    seen: set[str] = set()
    for name, kind in PARTS.items():
        assert set(kind.uses) <= seen, f"{name} uses {set(kind.uses) - seen} before they are made"
        assert kind.__module__ == f"customercard.store.{name}"  # a part is named by its module
        seen.add(name)


def part_reaches(kind: type[Part]) -> set[str]:
    """The names ``self.<name>`` a part's own code reads that it neither defines nor inherits."""
    source = Path(__import__(kind.__module__, fromlist=["_"]).__file__).read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == kind.__name__)
    reads = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
             and n.value.id == "self"}
    return {name for name in reads if not hasattr(kind, name) and name not in kind.uses}


@pytest.mark.parametrize("name", list(PARTS))
def test_a_part_reaches_only_itself_the_database_and_the_parts_it_names(name):
    kind = PARTS[name]
    others = {other for other, part in PARTS.items() if part is not kind}
    reached = part_reaches(kind)
    assert reached <= {"db", "cache_store", "day", "_stamp", "_stamp_checked"}, reached
    # and what it calls on another part is that part's own method, never its private one
    source = Path(__import__(kind.__module__, fromlist=["_"]).__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and \
                isinstance(node.value.value, ast.Name) and node.value.value.id == "self" and node.value.attr in others:
            used = PARTS[node.value.attr]
            assert node.value.attr in kind.uses
            assert not node.attr.startswith("_") and hasattr(used, node.attr), f"{name} → {node.value.attr}.{node.attr}"


def test_a_part_given_other_parts_than_it_names_is_refused(tmp_path):
    with Store(tmp_path / "parts.duckdb") as store:
        admin = AdminStore(store.db)
        with pytest.raises(TypeError, match="uses admin"):
            PARTS["crm"](store.db, admin=admin)
        parts = assemble(store.db, admin)
        assert set(parts) == set(PARTS)
        assert parts["crm"].customers is parts["customers"]  # one part of each, shared by those that use it


def test_the_front_offers_every_public_method_of_every_part_once():
    offered = [name for kind in PARTS.values() for name in kind.offered()]
    assert len(offered) == len(set(offered))
    for name in offered:
        assert callable(getattr(Store, name)) and (getattr(Store, name).__doc__ or "").strip(), name
    internal = {name for kind in PARTS.values() for name in kind.internal}
    assert not {name for name in internal if hasattr(Store, name)}  # what parts keep to themselves stays there


def test_the_view_as_of_a_day_refuses_writes_through_every_part(empty_store):
    store = empty_store
    customer = store.create_customer(customercard.Customer(name="Acme"), user="anna")
    view = store.as_of(store.firm_today())  # the firm's day (UTC's is the day before late in the evening)
    assert view.get_customer(customer.id).name == "Acme"
    writes = {
        "a comment": lambda: view.add_comment(customer.id, "hello", user="boss"),
        "the customer": lambda: view.save_customer(view.get_customer(customer.id), user="boss"),
        "a list value": lambda: view.add_list_value("statuses", "New", user="boss"),
        "a contact": lambda: view.create_contact(
            customercard.Contact(customer_id=customer.id, first_name="Eva", last_name="Berg"), user="boss"),
    }
    for what, write in writes.items():
        with pytest.raises(PermissionDenied, match="read only"):
            write()
        assert what
    assert store.comments(customer.id).empty  # nothing was written
    assert store.contacts(customer.id).empty
    assert store.get_customer(customer.id).version == customer.version
    assert store.add_comment(customer.id, "today", user="anna").body == "today"  # the store itself still writes
