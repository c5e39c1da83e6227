"""Import and export of customers (and export of contact persons): real DuckDB files, real CSV and Excel files,
the command line as a real process."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from customercard import importexport
from customercard.demo import DEMO_USERS
from customercard.errors import CustomerCardError, NotFound, PermissionDenied
from customercard.importexport import (
    COLUMN_MAP,
    CONTACT_HEADERS,
    CUSTOMER_HEADERS,
    PLAIN_CRM_HEADERS,
    export_contacts,
    export_customers,
    import_customers,
)
from customercard.models import Customer, User
from customercard.store import Store
from customercard.validators import luhn_ok

from .conftest import copy_database


# -- helpers -------------------------------------------------------------------------------------------------
def write_csv(path: Path, rows: list[list[object]], delimiter: str = ",", bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def se_org_number(start: str) -> str:
    """A Swedish organisation number with a right check digit, starting with the 9 digits given."""
    digit = next(d for d in "0123456789" if luhn_ok(start + d))
    return f"{start[:6]}-{start[6:]}{digit}"


def count(store: Store, table: str = "customers") -> int:
    return int(store.sql(f"SELECT count(*) AS n FROM {table}")["n"][0])


def by_name(store: Store, ids: list[int]) -> dict[str, Customer]:
    return {c.name: c for c in (store.get_customer(i) for i in ids)}


ACME_ORG = se_org_number("556677889")
GOOD_ROWS = [
    ["name", "nickname", "industry", "status", "account_manager", "visit_address.line1",
     "visit_address.postal_code", "visit_address.city", "visit_address.country", "phone", "email", "website",
     "org_number", "vat_number", "use_invoice_address", "invoice_address.line1", "invoice_address.postal_code",
     "invoice_address.city", "default_distance_km", "max_distance_km", "invoicing.payment_term",
     "invoicing.currency", "invoicing.vat_rate", "expenses_billable", "Segmentation: Services", "Size"],
    ["Acme Konsult AB", "Acme", "consulting", "Active", "anna", "Storgatan 1", "11455", "Stockholm", "SE",
     "08-123 45 67", "info@acme.se", "acme.se", ACME_ORG, "SE" + ACME_ORG.replace("-", "") + "01", "yes",
     "Box 12", "10120", "Stockholm", "12,5", "40", "30 days net", "SEK", "25", "no", "Audit, tax", "small"],
    ["Fjällbacka Fisk & Skaldjur HB", "", "Retail", "Prospect", "", "Hamngatan 3", "457 40", "Fjällbacka", "",
     "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
]


# -- the column mapping --------------------------------------------------------------------------------------
def test_column_mapping_is_documented_and_points_at_model_fields():
    doc = importexport.__doc__
    for header in [*CUSTOMER_HEADERS.values(), *PLAIN_CRM_HEADERS, *importexport.EXPORT_ONLY_HEADERS]:
        assert header in doc, header
    assert set(COLUMN_MAP.values()) <= set(Customer.fields)
    assert set(CUSTOMER_HEADERS) == set(Customer.fields) - {"segments"}
    for plain in ("Name", "Org number", "VAT", "Address", "Postal code", "City", "Country", "Phone", "E-mail",
                  "Website", "Industry", "Status", "Account manager"):
        assert importexport.header_key(f"  {plain.upper()} ") in COLUMN_MAP


# -- importing good files ------------------------------------------------------------------------------------
def test_import_good_csv_with_bom_and_semicolons(empty_store: Store, tmp_path: Path):
    path = write_csv(tmp_path / "good.csv", GOOD_ROWS, delimiter=";", bom=True)
    report = import_customers(empty_store, path, user="anna")
    assert report.ok and report.rows == 2 and len(report.created) == 2, report.summary()
    assert report.summary().splitlines()[0] == "Imported 2 customers."
    assert count(empty_store) == 2

    found = by_name(empty_store, report.created)
    acme = found["Acme Konsult AB"]
    assert (acme.nickname, acme.industry, acme.status, acme.account_manager) == ("Acme", "Consulting", "Active",
                                                                                  "anna")
    assert (acme.visit_address.line1, acme.visit_address.postal_code, acme.visit_address.city) == (
        "Storgatan 1", "114 55", "Stockholm")
    assert acme.phone == "+46 8 123 45 67" and acme.website == "https://acme.se"
    assert acme.org_number == ACME_ORG and acme.vat_number == "SE" + ACME_ORG.replace("-", "") + "01"
    assert acme.use_invoice_address and acme.invoice_address.line1 == "Box 12"
    assert acme.invoice_address.postal_code == "101 20"
    assert acme.default_distance_km == 12.5 and acme.max_distance_km == 40
    assert acme.invoicing.payment_term == "30 days net" and acme.invoicing.currency == "SEK"
    assert acme.expenses_billable is False
    assert acme.segments == {"Services": ["Audit", "Tax"], "Size": ["Small"]}
    assert acme.created_by == "anna"

    fisk = found["Fjällbacka Fisk & Skaldjur HB"]
    assert fisk.visit_address.country == "SE"  # an empty cell keeps the firm's default
    assert fisk.industry == "Retail" and fisk.account_manager is None and fisk.max_distance_km is None

    history = empty_store.history(acme.id)
    assert set(history["changed_by"]) == {"anna"} and set(history["kind"]) == {"create"}
    assert {"name", "visit_address.city", "org_number", "segments.Services"} <= set(history["field"])
    assert empty_store.search("Fjällbacka Fisk")["id"].tolist()[:1] == [fisk.id]


def test_import_good_excel_file(empty_store: Store, tmp_path: Path):
    rows = [
        ["Name", "Organisation number", "Country", "Postal code", "City", "Phone", "Archived", "Calculate VAT",
         "VAT rate (%)", "Default distance (km)", "Payment term", "Account manager"],
        ["Nordlys Rådgivning AS", "923609016", "no", "0150", "Oslo", "+47 22 12 34 56", True, False, 0, 7.5,
         "15 days net", "Boss"],
        [None, None, None, None, None, None, None, None, None, None, None, None],  # an empty row is skipped
        ["Göta Revision AB", None, "SE", "41119", "Göteborg", "031-12 34 56", False, True, 25, None, None, None],
    ]
    path = write_xlsx(tmp_path / "good.xlsx", rows)
    report = import_customers(empty_store, path, user="boss")
    assert report.ok and report.rows == 2, report.summary()
    found = by_name(empty_store, report.created)
    nordlys = found["Nordlys Rådgivning AS"]
    assert nordlys.visit_address.country == "NO" and nordlys.org_number == "923 609 016"
    assert nordlys.visit_address.postal_code == "0150"
    assert nordlys.archived is True and nordlys.invoicing.calculate_vat is False
    assert nordlys.invoicing.vat_rate == 0 and nordlys.default_distance_km == 7.5
    assert nordlys.account_manager == "boss" and nordlys.created_by == "boss"
    assert found["Göta Revision AB"].phone == "+46 31 12 34 56"
    assert not empty_store.history(nordlys.id).empty


def test_excel_number_cell_for_a_postal_code_is_checked_like_text(empty_store: Store, tmp_path: Path):
    # Excel drops a leading zero of a number cell: the Norwegian postal code 0150 becomes 150 and is refused.
    path = write_xlsx(tmp_path / "zero.xlsx", [["Name", "Country", "Postal code"], ["Oslo AS", "NO", 150]])
    report = import_customers(empty_store, path, user="anna", dry_run=True)
    assert report.problems == [(2, "Postal code", "A postal code in NO has 4 digits, like 0150.")]


def test_plain_crm_export_columns_tab_separated(empty_store: Store, tmp_path: Path):
    org = se_org_number("556012345")
    rows = [
        ["Name", " ORG NUMBER ", "VAT", "Address", "Postal code", "City", "Country", "Phone", "E-mail", "Website",
         "Industry", "Status", "Account manager"],
        ["Lindqvist Bygg AB", org, "SE" + org.replace("-", "") + "01", "Byggvägen 4", "90325", "Umeå", "SE",
         "090-12 34 56", "Kontakt@Lindqvist.se", "www.lindqvist.se", "Construction", "active", "Anna"],
        ["Vera's Café", "", "", "", "", "", "", "", "", "", "Hospitality", "Prospect", "boss"],
    ]
    path = write_csv(tmp_path / "crm.csv", rows, delimiter="\t", bom=True)
    report = import_customers(empty_store, path, user="anna")
    assert report.ok, report.summary()
    found = by_name(empty_store, report.created)
    bygg = found["Lindqvist Bygg AB"]
    assert bygg.org_number == org and bygg.vat_number.startswith("SE") and bygg.visit_address.city == "Umeå"
    assert bygg.visit_address.line1 == "Byggvägen 4" and bygg.visit_address.postal_code == "903 25"
    assert bygg.email.lower() == "kontakt@lindqvist.se" and bygg.website == "https://www.lindqvist.se"
    assert (bygg.industry, bygg.status, bygg.account_manager) == ("Construction", "Active", "anna")
    assert found["Vera's Café"].account_manager == "boss"


def test_default_user_is_the_acting_user(empty_store: Store, tmp_path: Path):
    path = write_csv(tmp_path / "one.csv", [["Name"], ["Solo AB"]])
    report = import_customers(empty_store, path)  # CUSTOMERCARD_USER=anna in the tests
    assert empty_store.get_customer(report.created[0]).created_by == "anna"


# -- problems: all reported, nothing imported ----------------------------------------------------------------
BAD_ROWS = [
    ["Name", "E-mail", "Industry", "Default distance (km)", "City"],
    ["Good One AB", "not-an-email", "", "", "Lund"],
    ["Mining Co AB", "", "Mining", "", ""],
    ["Far Away AB", "", "", "-5", ""],
    ["", "x@example.se", "Consulting", "", "Malmö"],
    ["Fine AB", "fine@example.se", "Consulting", "10", "Umeå"],
    ["Two Problems AB", "bad@", "Nonexistent", "ten", ""],
]


@pytest.mark.parametrize("dry_run", [False, True])
def test_bad_rows_are_all_reported_and_nothing_is_imported(demo_store: Store, tmp_path: Path, dry_run: bool):
    before = {table: count(demo_store, table) for table in ("customers", "customer_changes", "search_terms")}
    report = import_customers(demo_store, write_csv(tmp_path / "bad.csv", BAD_ROWS), user="anna", dry_run=dry_run)
    assert not report.ok and report.created == []
    problems = {(row, column): message for row, column, message in report.problems}
    assert set(problems) == {(2, "E-mail"), (3, "Industry"), (4, "Default distance (km)"), (5, "Name"),
                             (7, "E-mail"), (7, "Industry"), (7, "Default distance (km)")}
    assert problems[(2, "E-mail")].startswith("Not a valid e-mail address")
    assert problems[(3, "Industry")] == ("“Mining” is not one of the industries "
                                         "(System administration → Customers).")
    assert problems[(4, "Default distance (km)")] == "Must be at least 0."
    assert problems[(5, "Name")] == "The customer needs a name."
    assert problems[(7, "Default distance (km)")] == "Not a number: “ten”."
    assert [p[0] for p in report.problems] == sorted(p[0] for p in report.problems)
    headline = report.summary().splitlines()[0]
    assert headline == ("Dry run: 7 problems in 5 rows; nothing would be imported." if dry_run
                        else "Nothing imported: 7 problems in 5 rows.")
    assert "Row 3, Industry: “Mining” is not one of the industries" in report.summary()
    assert {table: count(demo_store, table) for table in before} == before


def test_unknown_columns_are_one_problem_and_empty_ones_are_ignored(empty_store: Store, tmp_path: Path):
    rows = [["Name", "Colour", "Notes", "", "Shoe size"], ["Acme AB", "blue", "", "x", "42"],
            ["Beta AB", "", "", "", ""]]
    report = import_customers(empty_store, write_csv(tmp_path / "unknown.csv", rows), user="anna")
    assert report.created == [] and count(empty_store) == 0
    assert len(report.problems) == 1
    row, column, message = report.problems[0]
    assert row == 1 and column == "Colour, (column 4 without a header), Shoe size"
    assert message.startswith("Unknown columns")
    assert report.summary().splitlines()[1].startswith("Row 1 (header), Colour")


def test_doubled_columns_and_unknown_criteria_are_problems(empty_store: Store, tmp_path: Path):
    rows = [["Name", "Org number", "org_number", "Segmentation: Colour"], ["Acme AB", "", "", "Blue"]]
    report = import_customers(empty_store, write_csv(tmp_path / "double.csv", rows), user="anna")
    messages = [message for _row, _column, message in report.problems]
    assert any("both give org_number" in m for m in messages)
    assert any("“Colour” is not a segmentation criterion" in m for m in messages)
    assert count(empty_store) == 0


def test_segment_values_are_checked(empty_store: Store, tmp_path: Path):
    rows = [["Name", "Size", "Services"], ["Acme AB", "Small, Large", "Audit, Knitting"]]
    report = import_customers(empty_store, write_csv(tmp_path / "segments.csv", rows), user="anna")
    assert len(report.problems) == 1
    row, column, message = report.problems[0]
    assert (row, column) == (2, "Size, Services")
    assert "Knitting" in message and "Size takes one value" in message


def test_a_segment_value_with_a_comma_of_its_own_comes_back_from_the_firms_export(empty_store: Store, tmp_path: Path):
    """A value named "Audit, tax" is one value: an import reads the longest run of comma-separated pieces that names
    a value (the export writes values apart by ", "), so the firm's own file imports again, values as they were."""
    store = empty_store
    services = next(c for c in store.criteria() if c.multiple)
    services.values = [*services.values, "Audit, tax"]
    store.save_criterion(services, user="boss")
    rows = [["Name", services.name], ["Comma Holding AB", f"Audit, tax, {services.values[0]}"]]
    report = import_customers(store, write_csv(tmp_path / "commas.csv", rows), user="anna")
    assert report.ok, report.problems
    made = store.get_customer(report.created[0])
    assert sorted(made.segments[services.name]) == sorted(["Audit, tax", services.values[0]])


@pytest.mark.parametrize("content, expected", [
    ([["City", "Phone"], ["Lund", "046-12 34 56"]], "no name column"),
    ([["Name"]], "no customers under its header row"),
    ([], "is empty"),
])
def test_files_that_cannot_be_imported_are_refused(empty_store: Store, tmp_path: Path, content, expected):
    path = write_csv(tmp_path / "refused.csv", content)
    with pytest.raises(CustomerCardError, match=expected):
        import_customers(empty_store, path, user="anna")


def test_unreadable_files_are_refused(empty_store: Store, tmp_path: Path):
    with pytest.raises(CustomerCardError, match="No file"):
        import_customers(empty_store, tmp_path / "missing.csv", user="anna")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CustomerCardError, match=r"save the \.xls workbook as \.xlsx"):
        import_customers(empty_store, tmp_path / "old.xls", user="anna")
    (tmp_path / "latin1.csv").write_bytes("Name\nKöpenhamn AB\n".encode("latin-1"))
    with pytest.raises(CustomerCardError, match="not UTF-8"):
        import_customers(empty_store, tmp_path / "latin1.csv", user="anna")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip file")
    with pytest.raises(CustomerCardError, match="not a readable Excel workbook"):
        import_customers(empty_store, tmp_path / "broken.xlsx", user="anna")


def test_a_viewer_may_check_a_file_but_not_import_it(empty_store: Store, tmp_path: Path):
    path = write_csv(tmp_path / "one.csv", [["Name"], ["Solo AB"]])
    checked = import_customers(empty_store, path, user="vera", dry_run=True)
    assert checked.ok and checked.refused  # the file is fine; the import is not vera's to make, and says so
    assert checked.headline() == ("Dry run: the file is fine (1 customer), but “vera” may not import customers: a "
                                  "manager or an administrator can.")
    assert not import_customers(empty_store, path, user="anna", dry_run=True).refused
    with pytest.raises(PermissionDenied, match="may not import"):
        import_customers(empty_store, path, user="vera")
    with pytest.raises(NotFound, match="No user with the login “ghost”"):
        import_customers(empty_store, path, user="ghost", dry_run=True)
    assert count(empty_store) == 0


# -- dry run and duplicates ----------------------------------------------------------------------------------
def test_dry_run_writes_nothing(empty_store: Store, tmp_path: Path):
    path = write_csv(tmp_path / "good.csv", GOOD_ROWS)
    before = {table: count(empty_store, table) for table in ("customers", "customer_changes", "customer_segments",
                                                             "search_terms")}
    report = import_customers(empty_store, path, user="anna", dry_run=True)
    assert report.ok and report.dry_run and report.created == [] and report.rows == 2
    assert report.summary().splitlines()[0] == "Dry run: 2 customers would be imported."
    assert {table: count(empty_store, table) for table in before} == before


def test_duplicates_are_reported_as_warnings(demo_store: Store, tmp_path: Path):
    existing = demo_store.sql("SELECT id, name, org_number, visit_country FROM customers "
                              "WHERE org_number <> '' AND NOT archived ORDER BY id LIMIT 2")
    first, second = existing.iloc[0], existing.iloc[1]
    new_org = se_org_number("559912345")
    assert demo_store.possible_duplicates(org_number=new_org).empty
    rows = [["Name", "Org number", "Country"],
            ["Unrelated Testname Imports AB", first.org_number, first.visit_country],
            [second["name"].upper(), "", ""],
            ["Zyxwv Qwerty AB", new_org, "SE"],
            ["zyxwv  qwerty ab", new_org, "SE"]]
    report = import_customers(demo_store, write_csv(tmp_path / "dups.csv", rows), user="anna")
    assert report.ok and len(report.created) == 4, report.summary()
    assert (2, int(first.id), first["name"], "same organisation number") in report.duplicates
    assert (3, int(second.id), second["name"], "same name") in report.duplicates  # its name in capitals
    assert (5, None, "Zyxwv Qwerty AB", "same organisation number as row 4 of this file") in report.duplicates
    assert (5, None, "Zyxwv Qwerty AB", "same name as row 4 of this file") in report.duplicates
    assert not any(row == 4 for row, *_rest in report.duplicates)
    summary = report.summary()
    assert "Possible duplicates (imported anyway):" in summary
    assert f"Row 2: “{first['name']}” (customer id {int(first.id)}) — same organisation number." in summary


# -- export and the round trip -------------------------------------------------------------------------------
def _comparable(store: Store) -> pd.DataFrame:
    frame = store.export_customers_frame()
    frame = frame.drop(columns=["id", "number", "created_at", "created_by", "account_manager_name"])
    return frame.sort_values("name", kind="stable").reset_index(drop=True)


@pytest.fixture
def demo_firm(empty_template: Path, tmp_path: Path):
    """A new database with the default lists and criteria, and the demo firm's users (no customers)."""
    store = Store(copy_database(empty_template, tmp_path / "target"))
    present = set(store.users(include_inactive=True)["login"])
    for login, name, role, projects in DEMO_USERS:
        if login not in present:
            store.add_user(User(login=login, name=name, email=f"{login}@firm.example", role=role,
                                projects_access=projects), "secret-pass", by="system:test")
    yield store
    store.close()


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_import_round_trip_into_an_empty_store(demo_store: Store, demo_firm: Store, tmp_path: Path,
                                                      suffix: str):
    path = tmp_path / f"customers{suffix}"
    written = export_customers(demo_store, path)
    assert written == count(demo_store) > 100
    assert count(demo_firm) == 0
    report = import_customers(demo_firm, path, user="anna")
    assert report.ok and len(report.created) == written, report.summary()
    assert report.skipped_columns == ["Customer number", "Account manager name", "Created", "Created by"]
    before, after = _comparable(demo_store), _comparable(demo_firm)
    assert list(before.columns) == list(after.columns)
    assert {"segments.Size", "segments.Services", "segments.Source"} <= set(before.columns)
    assert before["visit_address.country"].nunique() > 1 and before["use_invoice_address"].any()
    assert (before["segments.Services"].str.contains(", ")).any()
    pd.testing.assert_frame_equal(before, after, check_dtype=False)
    assert set(demo_firm.sql("SELECT DISTINCT created_by FROM customers")["created_by"]) == {"anna"}


def test_customers_export_has_human_headers_and_labels(demo_store: Store, tmp_path: Path):
    export_customers(demo_store, tmp_path / "customers.csv")
    frame = pd.read_csv(tmp_path / "customers.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns[:6]) == ["Customer number", "Name", "Nickname", "Account manager",
                                       "Account manager name", "Industry"]
    assert {"Organisation number", "Payment term", "Segmentation: Size", "Created by"} <= set(frame.columns)
    customer = demo_store.get_customer(int(demo_store.sql("SELECT min(id) AS id FROM customers")["id"][0]))
    row = frame[frame["Customer number"] == str(customer.number)].iloc[0]
    assert row["Name"] == customer.name and row["Industry"] == (customer.industry or "")
    assert row["Account manager"] == (customer.account_manager or "")
    assert row["Account manager name"] == demo_store.user_name(customer.account_manager)
    assert row["Archived"] in ("yes", "no") and row["Payment term"] == (customer.invoicing.payment_term or "")
    assert row["Segmentation: Services"] == ", ".join(customer.segments.get("Services", []))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_contacts_export(demo_store: Store, tmp_path: Path, suffix: str):
    path = tmp_path / f"contacts{suffix}"
    assert export_contacts(demo_store, path) == count(demo_store, "contacts") > 0
    if suffix == ".csv":
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    else:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(CONTACT_HEADERS.values())
    contact_id = int(demo_store.sql("SELECT min(id) AS id FROM contacts WHERE NOT active")["id"][0])
    contact = demo_store.get_contact(contact_id)
    customer = demo_store.get_customer(contact.customer_id)
    match = frame[(frame["Customer number"] == str(customer.number)) & (frame["Last name"] == contact.last_name)
                  & (frame["First name"] == contact.first_name)]
    assert len(match) >= 1
    row = match.iloc[0]
    assert (row["Customer"], row["E-mail"], row["Active"]) == (customer.name, contact.email, "no")
    assert contact.mobile.startswith("+")  # so a spreadsheet would read it as a formula: written with a '
    assert row["Mobile"] == "'" + contact.mobile


def test_export_refuses_other_suffixes_and_missing_folders(demo_store: Store, tmp_path: Path):
    with pytest.raises(CustomerCardError, match=r"\.csv or \.xlsx"):
        export_customers(demo_store, tmp_path / "customers.json")
    with pytest.raises(CustomerCardError, match=r"\.csv or \.xlsx"):
        export_contacts(demo_store, tmp_path / "contacts")
    with pytest.raises(CustomerCardError, match="No folder"):
        export_customers(demo_store, tmp_path / "nowhere" / "customers.csv")


# -- the command line ----------------------------------------------------------------------------------------
def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "customercard", *args], capture_output=True, check=False, text=True,
                          timeout=120)


@pytest.fixture
def cli_db(empty_template: Path, tmp_path: Path) -> str:
    return str(copy_database(empty_template, tmp_path / "cli"))


def test_cli_import_dry_run_and_export(cli_db: str, tmp_path: Path):
    good = write_csv(tmp_path / "good.csv", GOOD_ROWS)
    dry = run("--db", cli_db, "import", str(good), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("Dry run: 2 customers would be imported.")
    with Store(cli_db) as store:
        assert count(store) == 0

    # a viewer's dry run checks the file and says the import is not theirs: exit 1, as the import itself would
    viewer = run("--db", cli_db, "import", str(good), "--dry-run", "--user", "vera")
    assert viewer.returncode == 1 and viewer.stdout.startswith(
        "Dry run: the file is fine (2 customers), but “vera” may not import customers"), viewer
    ghost = run("--db", cli_db, "import", str(good), "--dry-run", "--user", "ghost")
    assert ghost.returncode == 1 and "No user with the login “ghost”" in ghost.stderr, ghost

    done = run("--db", cli_db, "import", str(good))
    assert done.returncode == 0 and done.stdout.startswith("Imported 2 customers."), done.stderr
    again = run("--db", cli_db, "import", "--user", "anna", str(write_csv(tmp_path / "more.csv",
                                                                            [["Name"], ["Third Party AB"]])))
    assert again.returncode == 0, again.stderr
    with Store(cli_db) as store:
        creators = dict(store.sql("SELECT name, created_by FROM customers").itertuples(index=False))
    assert creators == {"Acme Konsult AB": "system:cli", "Fjällbacka Fisk & Skaldjur HB": "system:cli",
                        "Third Party AB": "anna"}

    exported = run("--db", cli_db, "export", "customers", str(tmp_path / "out.xlsx"))
    assert exported.returncode == 0 and exported.stdout.strip() == f"Exported 3 customers to {tmp_path / 'out.xlsx'}."
    contacts = run("--db", cli_db, "export", "contacts", str(tmp_path / "contacts.csv"))
    assert contacts.returncode == 0 and "Exported 0 contact persons" in contacts.stdout
    assert (tmp_path / "out.xlsx").stat().st_size > 0 and (tmp_path / "contacts.csv").exists()


def test_cli_import_with_problems_exits_1_and_imports_nothing(cli_db: str, tmp_path: Path):
    result = run("--db", cli_db, "import", str(write_csv(tmp_path / "bad.csv", BAD_ROWS)))
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Nothing imported: 7 problems in 5 rows."
    assert "Row 4, Default distance (km): Must be at least 0." in lines
    with Store(cli_db) as store:
        assert count(store) == 0


def test_cli_mistakes_are_one_line(cli_db: str, tmp_path: Path):
    one = write_csv(tmp_path / "one.csv", [["Name"], ["Solo AB"]])
    no_name = write_csv(tmp_path / "noname.csv", [["City"], ["Lund"]])
    cases = [
        (["import", str(tmp_path / "missing.csv")], "No file"),
        (["import", str(tmp_path / "data.json")], ".csv or .xlsx"),
        (["import", str(no_name)], "no name column"),
        (["import", "--user", "vera", str(one)], "may not import"),
        (["export", "customers", str(tmp_path / "out.json")], ".csv or .xlsx"),
        (["export", "contacts", str(tmp_path / "nowhere" / "c.csv")], "No folder"),
        (["export", "projects", str(tmp_path / "p.csv")], "invalid choice"),
    ]
    (tmp_path / "data.json").write_text("{}")
    for args, expected in cases:
        result = run("--db", cli_db, *args)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_cli_help():
    for command in (["import"], ["export"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage: customercard" in result.stdout
    assert "--dry-run" in run("import", "--help").stdout


@pytest.mark.parametrize("language", ["en", "sv", "da"])
def test_the_search_customers_export_is_taken_by_the_importer(demo_store: Store, tmp_path: Path, language: str):
    """The list Search customers exports (its Number column too), in any of the three languages, is taken by the
    importer (a dry run into the same firm: its account managers by name): the customer number is skipped as
    export-only, the rest read."""
    from customercard.i18n import using_language
    from customercard.ui.customer_list import CustomerList

    path = tmp_path / f"list-{language}.csv"
    with using_language(language):
        listing = CustomerList(store=demo_store)
        path.write_bytes(listing.export_file("csv").getvalue())
    report = import_customers(demo_store, path, user="anna", dry_run=True)
    assert report.ok, report.summary()
    assert report.skipped_columns and len(report.skipped_columns) == 1


def test_customers_export_leaves_nicknames_out_while_the_firm_has_them_switched_off(demo_store: Store,
                                                                                      tmp_path: Path):
    """The card, the lists, the search and the API leave nicknames out while they are switched off; the export
    still wrote them, so a file handed on carried what the firm had chosen not to keep showing."""
    settings = demo_store.settings()
    settings.nicknames_enabled = False
    demo_store.save_settings(settings, user="admin")
    try:
        export_customers(demo_store, tmp_path / "off.csv")
    finally:
        settings = demo_store.settings()
        settings.nicknames_enabled = True
        demo_store.save_settings(settings, user="admin")
    export_customers(demo_store, tmp_path / "on.csv")
    off = pd.read_csv(tmp_path / "off.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    on = pd.read_csv(tmp_path / "on.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert "Nickname" not in off.columns and "Nickname" in on.columns
    assert list(off.columns) == [column for column in on.columns if column != "Nickname"]
    assert len(off) == len(on)


@pytest.mark.parametrize("language, text, number", [
    ("en", "1,234", 1234.0), ("en", "1,234.5", 1234.5), ("en", "12,5", 12.5), ("en", "1.234,5", 1234.5),
    ("en", "25 %", 25.0), ("en", "-3", -3.0), ("en", "1 234", 1234.0),
    ("sv", "1,234", 1.234), ("sv", "1 234,5", 1234.5), ("sv", "12.5", 12.5), ("sv", "1,234.5", 1234.5),
    ("da", "1.234", 1234.0), ("da", "1.234,5", 1234.5), ("da", "12,5", 12.5)])
def test_an_imported_number_is_read_as_the_reader_types_it_on_the_card(language, text, number):
    """'1,234' in an English reader's file was read as 1.234 (the card reads 1234), 1,000 times too small."""
    from customercard.importexport import parse_number

    assert parse_number(text, language) == number


@pytest.mark.parametrize("text", ["1e3", "NaN", "inf", "-inf", "1,2,3.4.5", "12 kr", "0x10", ""])
def test_an_imported_number_the_card_refuses_is_refused(text):
    from customercard.importexport import parse_number

    for language in ("en", "sv", "da"):
        with pytest.raises(ValueError, match="Not a number"):
            parse_number(text, language)


def test_a_row_without_a_name_is_told_by_the_name_column_in_the_reader_s_language(demo_store: Store, tmp_path: Path):
    """A Swedish file with its name cell empty: the report said "Rad 2, Name: …" — the English header — where every
    other line names the file's own column."""
    from customercard.i18n import using_language

    path = tmp_path / "kunder.csv"
    path.write_text("Namn;Ort\n;Lund\n", encoding="utf-8")
    with using_language("sv"):
        report = import_customers(demo_store, path, user="anna", dry_run=True)
        told = report.summary()
    assert not report.ok and "Namn:" in told and "Name:" not in told, told
