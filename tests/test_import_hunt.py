"""A CSV row with more cells than its header row (an unquoted comma in a company name) was imported with its values
shifted and the last dropped: it is a bad row now, reported, and nothing of the file is imported. Fewer cells, or
empty cells past the header's last, are taken as they are; in a workbook a value right of the header's last column
is in a column without a header."""

from __future__ import annotations

from pathlib import Path

import pytest

from customercard.importexport import import_customers
from customercard.store import Store

from .test_cli import run
from .test_importexport import count, write_xlsx

MESSAGE = "This row has 3 cells; the header has 2 (a comma or semicolon inside a value needs quotes)."


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("separator", [",", ";"])
def test_a_row_with_more_cells_than_the_header_is_a_bad_row(empty_store: Store, tmp_path: Path, separator: str,
                                                          dry_run: bool):
    s = separator
    text = f"Name{s}City\nGood AB{s}Lund\nAcme{s} Inc{s}Stockholm\nAlso Good AB{s}Umeå\nBeta{s} Ltd{s}Malmö{s}\n"
    report = import_customers(empty_store, write_text(tmp_path / "shifted.csv", text), user="anna", dry_run=dry_run)
    assert not report.ok and report.created == [] and count(empty_store) == 0
    assert report.problems == [(3, "(column 3 without a header)", MESSAGE),
                               (5, "(column 3 without a header)", MESSAGE.replace("has 3 cells", "has 4 cells"))]
    lines = report.summary().splitlines()
    assert lines[0] == ("Dry run: 2 problems in 2 rows; nothing would be imported." if dry_run
                        else "Nothing imported: 2 problems in 2 rows.")
    assert lines[1] == f"Row 3, (column 3 without a header): {MESSAGE}"


def test_fewer_cells_or_empty_cells_past_the_header_are_taken(empty_store: Store, tmp_path: Path):
    text = "Name,City,Phone\nShort AB\nTrailing AB,Lund,,,\nQuoted, Inc AB,\"Umeå, Väst\"\n".replace(
        "Quoted, Inc AB", '"Quoted, Inc AB"')
    report = import_customers(empty_store, write_text(tmp_path / "ragged.csv", text), user="anna")
    assert report.ok, report.summary()
    stored = {c.name: c.visit_address.city for c in map(empty_store.get_customer, report.created)}
    assert stored == {"Short AB": "", "Trailing AB": "Lund", "Quoted, Inc AB": "Umeå, Väst"}


def test_a_workbook_value_right_of_the_header_is_in_a_column_without_a_header(empty_store: Store, tmp_path: Path):
    path = write_xlsx(tmp_path / "wide.xlsx", [["Name", "City"], ["Acme", "Inc", "Stockholm"], ["Beta AB"]])
    report = import_customers(empty_store, path, user="anna")
    assert report.created == [] and count(empty_store) == 0
    assert [(row, column) for row, column, _message in report.problems] == [(1, "(column 3 without a header)")]
    fine = write_xlsx(tmp_path / "fine.xlsx", [["Name", "City"], ["Acme AB", "Lund", None, ""], ["Beta AB"]])
    assert import_customers(empty_store, fine, user="anna").ok


def test_the_command_line_reports_the_row_and_imports_nothing(tmp_path: Path):
    database = str(tmp_path / "cli.duckdb")
    assert run("--db", database, "demo", "--customers", "5", "--quiet").returncode == 0
    path = write_text(tmp_path / "misaligned.csv", "Name,City\nAcme, Inc,Stockholm\n")
    for extra in (["--dry-run"], []):
        result = run("--db", database, "import", str(path), *extra)
        assert result.returncode == 1 and f"Row 2, (column 3 without a header): {MESSAGE}" in result.stdout
    with Store(database) as store:
        assert store.sql("SELECT count(*) AS n FROM customers WHERE name = 'Acme'")["n"][0] == 0
