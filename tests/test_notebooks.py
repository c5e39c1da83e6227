"""The analyst notebooks run top to bottom with a real kernel against a copy of the demo database."""

from __future__ import annotations

import os
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
