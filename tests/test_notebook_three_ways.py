"""One analyst's notebook, unchanged, three ways: on the DuckDB file, over HTTP through a running `customercard serve`
(which holds the file), and on PostgreSQL — the same cells, the same answers."""

from __future__ import annotations

import nbformat
import pytest

from customercard.store import Store
from customercard.store.discovery import file_of

from .conftest import copy_database
from .serve_process import ServeProcess
from .test_notebooks import execute

pytestmark = pytest.mark.notebook
NOTEBOOK = "00-getting-started.ipynb"
#: The cells whose answers do not depend on when they ran (history has times of its own).
SAME_ANSWERS = ("list_customers", "c.name, c.number", "store.search(", "invoiced_per_year(c.id)",
                "invoiced_per_year().tail()", "store.sql(")


def answers(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each code cell's printed and shown text, by the start of its source."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        texts = [out.get("text", "") + str(out.get("data", {}).get("text/plain", "")) for out in cell.outputs]
        assert not [out for out in cell.outputs if out.output_type == "error"], cell.source
        found[cell.source] = "\n".join(texts)
    return found


def answer(found: dict[str, str], start: str) -> str:
    return next(text for source, text in found.items() if start in source)


def saved_change(store: Store) -> tuple[str, str]:
    changed = store.sql("SELECT changed_by, new_value FROM customer_changes WHERE field = 'phone' "
                        "ORDER BY id DESC LIMIT 1")
    return changed["changed_by"][0], changed["new_value"][0]


@pytest.fixture(scope="module")
def embedded(demo_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("embedded")
    database = copy_database(demo_template, folder / "db")
    return database, answers(execute(NOTEBOOK, database, folder))


def test_on_the_duckdb_file(embedded):
    database, found = embedded
    assert "RemoteStore" not in answer(found, "store = cc.open_store()")
    assert "running server" not in "".join(found.values())
    assert "email" in answer(found, "cc.ValidationError") and "amount" in answer(found, "invoiced_per_year(c.id)")
    with Store(database) as store:
        assert saved_change(store) == ("anna", "+46 8 123 45 67")


def test_over_http_through_the_running_server(embedded, demo_template, tmp_path):
    _database, on_file = embedded
    database = copy_database(demo_template, tmp_path / "db")
    server = ServeProcess(database, tmp_path)
    try:
        assert file_of(database).exists()
        found = answers(execute(NOTEBOOK, database, tmp_path))
    finally:
        said = server.stop()
    opened = answer(found, "store = cc.open_store()")
    assert f"Using the running server at http://127.0.0.1:{server.port} (customercard.duckdb is in use by it)." \
        in opened and "RemoteStore" in opened
    for cell in SAME_ANSWERS:
        assert answer(found, cell) == answer(on_file, cell), cell
    assert answer(found, "cc.ValidationError") == answer(on_file, "cc.ValidationError")
    assert "Serving customercard" in said and not file_of(database).exists()  # removed on a clean stop
    with Store(database) as store:
        assert saved_change(store) == ("anna", "+46 8 123 45 67")


def test_on_postgresql(embedded, pg_server, demo_template_pg, tmp_path):
    _database, on_file = embedded
    name = "notebook_three_ways"
    url = pg_server.create_database(name, template=demo_template_pg)
    try:
        found = answers(execute(NOTEBOOK, url, tmp_path))
        assert "running server" not in "".join(found.values())
        for cell in SAME_ANSWERS:
            assert answer(found, cell) == answer(on_file, cell), cell
        with Store(url) as store:
            assert saved_change(store) == ("anna", "+46 8 123 45 67")
    finally:
        pg_server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')
