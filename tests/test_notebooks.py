"""The analyst notebooks run top to bottom with a real kernel against a copy of the demo database."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import copy_database

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
pytestmark = pytest.mark.notebook


def execute(name: str, database: Path, tmp_path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    env = {"CUSTOMERCARD_DB": str(database), "CUSTOMERCARD_USER": "anna",
           "CUSTOMERCARD_DATA_DIR": str(tmp_path)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                       ).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def test_getting_started(demo_template, tmp_path):
    database = copy_database(demo_template, tmp_path / "db")
    notebook = execute("00-getting-started.ipynb", database, tmp_path)
    text = outputs(notebook)
    assert "email" in text and "+46 8 123 45 67" in text and "amount" in text
    invoiced = "".join(str(out.get("data", {}).get("text/plain", "")) for out in notebook.cells[10]["outputs"])
    assert re.search(r"\b20\d\d\b", invoiced), invoiced  # the customer's invoiced years, not an empty frame


def test_customer_card_notebook(demo_template, tmp_path):
    from customercard.store import Store

    database = copy_database(demo_template, tmp_path / "db")
    notebook = execute("01-customer-card.ipynb", database, tmp_path)
    bundles = [out.get("data", {}) for cell in notebook.cells for out in cell.get("outputs", [])]
    assert any("application/vnd.holoviews_load.v0+json" in b or "application/javascript" in b for b in bundles)
    card_output = notebook.cells[2]["outputs"]
    assert card_output and any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) or
                               "text/html" in o.get("data", {}) for o in card_output)
    text = outputs(notebook)
    assert "anna" in text and "phone" in text and "amount" in text
    with Store(database) as store:  # the customer invoiced most: its invoiced per year is not empty
        best = store.sql("SELECT customer_id FROM invoices GROUP BY customer_id ORDER BY count(*) DESC, customer_id "
                         "LIMIT 1")
        customer_id = int(best.customer_id[0])
        assert store.get_customer(customer_id).visit_address.city == "Uppsala"
        assert len(store.invoiced_per_year(customer_id)) > 0


def test_account_overview_notebook(demo_template, tmp_path):
    """The analyst's overview runs top to bottom and ends in the servable overview: a picker, the card, invoicing."""
    database = copy_database(demo_template, tmp_path / "db")
    notebook = execute("02-account-overview.ipynb", database, tmp_path)
    errors = [out for cell in notebook.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    text = outputs(notebook)
    assert "invoiced" in text and "(not on a project)" in text and ":Bars" in text
    assert "Select(label='Customer'" in text and text.count("ParamFunction") == 2  # the card, the invoicing
    assert ".servable(" in notebook.cells[-1].source


def test_account_overview_notebook_for_a_customer_with_invoices_and_no_projects(demo_template, tmp_path):
    """The top customer has invoices and no projects (as many a customer of a larger demo): the invoicing runs,
    every invoice in the column of its own, in the table, the chart and the served overview."""
    from customercard.store import Store

    database = copy_database(demo_template, tmp_path / "db")
    with Store(database) as store:
        top = int(store.sql("SELECT c.id FROM customers c JOIN invoices i ON i.customer_id = c.id "
                            "WHERE NOT c.archived GROUP BY c.id, c.name "
                            "ORDER BY coalesce(sum(i.amount_base), 0) DESC, c.name LIMIT 1")["id"][0])
        other = int(store.sql(f"SELECT min(id) AS id FROM customers WHERE id <> {top}")["id"][0])
        store.db.execute("UPDATE invoices SET project_id = NULL WHERE customer_id = ?", [top])
        store.db.execute("UPDATE projects SET customer_id = ? WHERE customer_id = ?", [other, top])
        assert store.projects(top).empty and not store.invoices(top).empty
    notebook = execute("02-account-overview.ipynb", database, tmp_path)
    errors = [(index, out.get("ename"), out.get("evalue")) for index, cell in enumerate(notebook.cells)
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    table = str(notebook.cells[5]["outputs"][0]["data"]["text/plain"])
    assert "(not on a project)" in table and ":Bars" in outputs(notebook)
