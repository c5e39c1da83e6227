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


@pytest.mark.parametrize("text, row", [
    ('Name,City,Phone\n"Alfa AB",Lund,+46 46 123 45 67\n"Beta AB,Malmö,+46 40 123 45 67\n', 3),  # never closed
    ('Name,City\n"Alfa AB"x,Lund\nBeta AB,Malmö\n', 2),  # text after the closing quote
])
def test_a_quote_left_open_or_text_after_a_closing_quote_refuses_the_file_naming_the_row(
        empty_store: Store, tmp_path: Path, text: str, row: int):
    """The last row's quote never closed: the dry run said "2 customers would be imported" and the second was named
    'Beta AB,Malmö,+46 40 123 45 67', without city or phone, and without a word."""
    from customercard.errors import CustomerCardError

    for dry_run in (True, False):
        with pytest.raises(CustomerCardError, match=f"row {row} has a quotation mark that is not closed"):
            import_customers(empty_store, write_text(tmp_path / "quotes.csv", text), user="anna", dry_run=dry_run)
    assert count(empty_store) == 0


def test_quotes_inside_a_value_are_still_taken(empty_store: Store, tmp_path: Path):
    text = 'Name,City\nHe said "hi" AB,Lund\n"Quoted ""inner"" AB",Lund\n"Gamma AB, Malmö",Malmö\n'
    report = import_customers(empty_store, write_text(tmp_path / "quotes.csv", text), user="anna")
    assert report.ok and count(empty_store) == 3
    assert set(empty_store.sql("SELECT name FROM customers")["name"]) == {'He said "hi" AB', 'Quoted "inner" AB',
                                                                          "Gamma AB, Malmö"}


def _workbook_with_a_formula(path: Path, saved: str | None) -> Path:
    """A workbook whose B2 is a formula: as a program writes it (no result saved), or as a spreadsheet program saves
    it (its result ``saved`` kept beside it)."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Name", "City"])
    book.active.append(["Alfa AB", '="Lu"&"nd"'])
    book.save(path)
    if saved is None:
        return path
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace('<c r="B2">', '<c r="B2" t="str">').replace(
        "<v />", f"<v>{saved}</v>").encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_workbook_formula_without_its_result_saved_refuses_the_file_naming_the_cell(empty_store: Store,
                                                                                      tmp_path: Path):
    """Written by a program (openpyxl), a workbook keeps its formulas without results: they were read as empty cells,
    imported as nothing (a formula in Name: "The customer needs a name"), without a word."""
    from customercard.errors import CustomerCardError

    with pytest.raises(CustomerCardError, match="the cell B2 holds a formula whose result is not saved"):
        import_customers(empty_store, _workbook_with_a_formula(tmp_path / "written.xlsx", None), user="anna")
    assert count(empty_store) == 0
    # saved by a spreadsheet program: its result is what is imported
    report = import_customers(empty_store, _workbook_with_a_formula(tmp_path / "saved.xlsx", "Lund"), user="anna")
    assert report.ok and empty_store.get_customer(report.created[0]).visit_address.city == "Lund"
