"""Privacy (GDPR) for a contact person, on both backends: an administrator exports everything held about them
(JSON and vCard) and anonymises them — their values replaced in the contact, its history, the search index and
the texts that name them, one admin log entry, nothing else about the customer lost; others are refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from types import SimpleNamespace

import pytest
import vobject

import customercard as cc
from customercard.privacy import personal_data_files, write_personal_data
from customercard.store import Store

OLD_TRACES = ("bergstr", "anna.bergstrom", "0701112233", "701112233", "Chief Budget")


@pytest.fixture
def firm(empty_store):
    """Two customers; Anna Bergström works at the first and is named in comments at both."""
    store = empty_store
    lindqvist = store.create_customer(user="anna", name="Lindqvist Konsult AB")
    other = store.create_customer(user="anna", name="Östberg Bygg AB")
    anna = store.create_contact(cc.Contact(customer_id=lindqvist.id, first_name="Anna", last_name="Bergström",
                                           title="CFO", email="anna.bergstrom@lindqvist.se", phone="08-765 43 21",
                                           mobile="070-111 22 33", notes="Prefers mornings."), user="anna")
    anna.title = "Chief Budget Officer"
    anna = store.save_contact(anna, user="anna")
    per = store.create_contact(cc.Contact(customer_id=lindqvist.id, first_name="Per", last_name="Holm",
                                          email="per.holm@lindqvist.se"), user="anna")
    karin = store.create_contact(cc.Contact(customer_id=other.id, first_name="Karin", last_name="Ek"), user="anna")
    comments = SimpleNamespace(
        names=store.add_comment(lindqvist.id, "Met Anna Bergström about the budget; she agreed.", user="anna"),
        email=store.add_comment(lindqvist.id, "Forwarded the offer to ANNA.BERGSTROM@lindqvist.se today.",
                                user="anna"),
        elsewhere=store.add_comment(other.id, "Karin says anna bergström used to work with them.", user="anna"),
        unrelated=store.add_comment(lindqvist.id, "Per Holm called about invoices.", user="anna"),
        other_customer=store.add_comment(other.id, "Karin Ek wants a new offer.", user="anna"))
    edited = store.get_comment(comments.names.id)
    edited.body = "Met Anna Bergström about the budget; she agreed to 5 %."
    store.edit_comment(edited, user="anna")
    start = dt.datetime(2026, 3, 2, 10, 0)
    meeting = store.create_event(cc.Event(customer_id=lindqvist.id, title="Budget with Anna Bergström",
                                          starts_at=start, ends_at=start + dt.timedelta(hours=1),
                                          contact_ids=[anna.id], description="Bring last year's figures."),
                                 user="anna")
    lunch = store.create_event(cc.Event(customer_id=lindqvist.id, title="Lunch with Per", starts_at=start,
                                        ends_at=start + dt.timedelta(hours=1), contact_ids=[per.id]), user="anna")
    relation_type = store.list_values("relation_types")["label"][0]
    relation = store.add_relation(cc.Relation(customer_id=other.id, relation_type=relation_type,
                                              other_contact_id=anna.id, note="Former colleague of Karin"),
                                  user="anna")
    return SimpleNamespace(store=store, lindqvist=lindqvist, other=other, anna=anna, per=per, karin=karin,
                           comments=comments, meeting=meeting, lunch=lunch, relation=relation)


def test_the_export_holds_everything_about_the_person_and_nothing_about_others(firm):
    export = firm.store.contact_data_export(firm.anna.id, user="boss")
    text = json.dumps(export, ensure_ascii=False)  # JSON as it is
    assert export["exported_by"] == "boss"
    assert export["contact"]["email"] == "anna.bergstrom@lindqvist.se" and export["contact"]["title"] == \
        "Chief Budget Officer" and export["contact"]["mobile"] == firm.anna.mobile
    assert export["customer"] == {"id": firm.lindqvist.id, "number": firm.lindqvist.number,
                                  "name": "Lindqvist Konsult AB"}
    assert {c["id"] for c in export["comments"]} == {firm.comments.names.id, firm.comments.email.id,
                                                    firm.comments.elsewhere.id}
    assert [e["id"] for e in export["events"]] == [firm.meeting.id]
    assert [(r["id"], r["customer_name"]) for r in export["relations"]] == [(firm.relation.id, "Östberg Bygg AB")]
    history = {(h["field"], h["old_value"], h["new_value"]) for h in export["history"]}
    assert ("title", "CFO", "Chief Budget Officer") in history and ("last_name", None, "Bergström") in history
    for other in ("Per Holm", "per.holm", "Karin Ek", "Lunch with Per", "wants a new offer"):
        assert other not in text, other


def test_the_export_files_are_json_and_a_vcard(firm, tmp_path):
    files = personal_data_files(firm.store, firm.anna.id, user="boss")
    assert json.loads(files[f"contact-{firm.anna.id}.json"])["contact"]["last_name"] == "Bergström"
    card = vobject.readOne(files["Anna-Bergström.vcf"].decode("utf-8"))
    assert card.fn.value == "Anna Bergström" and card.org.value == ["Lindqvist Konsult AB"]
    written = write_personal_data(firm.store, firm.anna.id, tmp_path / "anna.zip", user="boss")
    assert written == [tmp_path / "anna.zip"]
    with zipfile.ZipFile(tmp_path / "anna.zip") as archive:
        assert sorted(archive.namelist()) == sorted(files)
    with pytest.raises(cc.CustomerCardError, match="exists already"):
        write_personal_data(firm.store, firm.anna.id, tmp_path / "anna.zip", user="boss")
    with pytest.raises(cc.CustomerCardError, match="No folder"):  # a mistyped folder is not made (export's way)
        write_personal_data(firm.store, firm.anna.id, tmp_path / "typo" / "anna.zip", user="boss")
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("user", ["anna", "vera"])
def test_managers_and_viewers_may_neither_export_nor_anonymise(firm, user):
    with pytest.raises(cc.PermissionDenied):
        firm.store.contact_data_export(firm.anna.id, user=user)
    with pytest.raises(cc.PermissionDenied):
        firm.store.anonymise_contact(firm.anna.id, user=user)
    assert firm.store.get_contact(firm.anna.id).last_name == "Bergström"


def _text_columns(store) -> list[tuple[str, str]]:
    return [(t, c) for t, c in store.db.rows(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND lower(data_type) IN ('varchar', 'text', 'character varying') ORDER BY table_name, column_name")]


def _traces(store, needle: str) -> list[str]:
    """Every table column (of the whole database) that holds ``needle``, whatever its case."""
    found = []
    for table, column in _text_columns(store):
        hits = store.db.row(f'SELECT count(*) FROM {table} WHERE position(? IN lower("{column}")) > 0',
                            [needle.lower()])[0]
        if hits:
            found.append(f"{table}.{column}")
    return found


def test_anonymising_replaces_the_person_everywhere_and_keeps_the_rest(firm):
    store = firm.store
    assert "search_terms.term" in _traces(store, "bergstr")  # the check below can see what it looks for
    assert list(store.search("Anna Bergström")["name"]) == ["Lindqvist Konsult AB"]
    customer_before = store.get_customer(firm.lindqvist.id)
    counts = {t: store.db.row(f"SELECT count(*) FROM {t}")[0]  # constant names
              for t in ("comments", "events", "relations", "record_changes", "contacts", "customers")}
    log_before = len(store.admin_log(limit=10_000))

    contact = store.anonymise_contact(firm.anna.id, user="boss")

    assert (contact.first_name, contact.last_name, contact.email, contact.phone, contact.mobile, contact.title,
            contact.notes, contact.active) == ("Anonymised", "", "", "", "", "", "", False)
    for trace in OLD_TRACES:
        assert _traces(store, trace) == [], trace
    for typed in ("Anna Bergström", "bergstrom", "bergstrm", "anna.bergstrom@lindqvist.se", "070-111 22 33"):
        assert store.search(typed).empty, typed
    # the texts that named her keep the rest of their words; history rows stay, with their values replaced
    assert store.get_comment(firm.comments.names.id).body == "Met [anonymised] about the budget; she agreed to 5 %."
    assert store.get_comment(firm.comments.email.id).body == "Forwarded the offer to [anonymised] today."
    assert store.get_comment(firm.comments.elsewhere.id).body == "Karin says [anonymised] used to work with them."
    assert store.get_event(firm.meeting.id).title == "Budget with [anonymised]"
    assert store.get_event(firm.meeting.id).contact_ids == [firm.anna.id]
    history = store.record_history("contacts", firm.anna.id)
    assert {"title", "last_name", "email"} <= set(history["field"])
    # what nobody named stays exactly as it was
    assert store.get_comment(firm.comments.unrelated.id).body == "Per Holm called about invoices."
    assert store.get_contact(firm.per.id).email == "per.holm@lindqvist.se"
    assert list(store.search("per holm")["name"]) == ["Lindqvist Konsult AB"]
    assert store.get_customer(firm.lindqvist.id).values() == customer_before.values()
    assert store.get_customer(firm.lindqvist.id).version == customer_before.version
    # one history row more per value taken out, each of kind 'anonymise' (the person: 7 fields and 'active'; three
    # comments and an event title that named her), so that a copy read before is refused
    anonymised = store.db.row("SELECT count(*) FROM record_changes WHERE kind = 'anonymise'")[0]
    assert anonymised == 8 + 3 + 1
    assert {**counts, "record_changes": counts["record_changes"] + anonymised} == {
        t: store.db.row(f"SELECT count(*) FROM {t}")[0] for t in counts}  # constant names
    log = store.admin_log(limit=10_000)
    assert len(log) == log_before + 1
    entry = log.iloc[0]
    assert (entry["changed_by"], entry["area"], entry["item"], entry["new_value"]) == \
        ("boss", "Privacy", f"contact {firm.anna.id}", "anonymised")


def test_the_cli_exports_and_anonymises(firm, tmp_path):
    store = firm.store
    location, contact_id = store.location, firm.anna.id
    if store.db.dialect == "duckdb":
        store.close()  # the CLI opens the file itself

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "customercard", "--db", location, "privacy", *args],
                              capture_output=True, check=False, text=True, timeout=120)

    exported = cli("export", str(contact_id), str(tmp_path / "anna.json"))
    assert exported.returncode == 0, exported.stderr
    assert json.loads((tmp_path / "anna.json").read_text())["contact"]["last_name"] == "Bergström"
    assert "FN:Anna Bergström" in (tmp_path / "anna.vcf").read_text()
    refused = cli("anonymise", str(contact_id), "--user", "anna")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "administrators" in refused.stderr
    for name in ("anna.txt", "anna.csv"):  # JSON under another ending was written: refused, nothing written
        wrong = cli("export", str(contact_id), str(tmp_path / name))
        assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and ".zip" in wrong.stderr
        assert not (tmp_path / name).exists()
    missing = cli("export", "999999", str(tmp_path / "none.zip"))
    assert missing.returncode == 1 and "No contact person" in missing.stderr and not (tmp_path / "none.zip").exists()
    # at a terminal it asks first (as the card does); "n" changes nothing
    terminal, typed_at = os.openpty()
    try:
        asked = subprocess.Popen([sys.executable, "-m", "customercard", "--db", location, "privacy", "anonymise",
                                  str(contact_id)], stdin=typed_at, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        os.write(terminal, b"n\n")
        out, err = asked.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(typed_at)
    assert asked.returncode == 1, err
    assert "Anonymise Anna Bergström (contact person" in out and "cannot be undone" in out
    assert "Nothing was changed." in out
    with Store(location) as reopened:
        assert reopened.get_contact(contact_id).first_name == "Anna"
    done = cli("anonymise", str(contact_id))  # a script (its input no terminal) is not asked
    assert done.returncode == 0 and "Anonymised contact person" in done.stdout
    with Store(location) as reopened:
        assert reopened.get_contact(contact_id).first_name == "Anonymised"
        assert reopened.admin_log().iloc[0]["changed_by"] == "system:cli"


def test_the_contact_card_offers_export_and_anonymise_to_administrators_only(firm):
    import panel as pn

    from customercard.ui.contact import ContactCard

    for user in ("anna", "vera"):
        view = ContactCard(store=firm.store, contact_id=firm.anna.id, user=user).__panel__()
        classes = {c for w in view.select(pn.widgets.Widget) for c in w.css_classes}
        assert "cc-privacy-export" not in classes and "cc-anonymise" not in classes
    card = ContactCard(store=firm.store, contact_id=firm.anna.id, user="boss")
    download = next(w for w in card.__panel__().select(pn.widgets.FileDownload)
                    if "cc-privacy-export" in w.css_classes)
    assert zipfile.ZipFile(io.BytesIO(card.personal_data_bytes().getvalue())).namelist() == [
        f"contact-{firm.anna.id}.json", "Anna-Bergström.vcf"]
    assert download.filename == f"personal-data-contact-{firm.anna.id}.zip"
    assert not card.anonymise_asked
    card.ask_anonymise()
    assert card.anonymise_asked
    assert firm.store.get_contact(firm.anna.id).last_name == "Bergström"  # asking changes nothing
    assert card.anonymise() and card.contact.first_name == "Anonymised"
    assert "Anonymised" in card.markup() and "Bergstr" not in card.markup()


def _follow_up(store, customer_id, what, contact_id=None):
    follow_up = store.new_follow_up(customer_id, owner="anna", contact_id=contact_id)
    follow_up.what = what
    return store.add_follow_up(follow_up, user="anna")


def test_the_export_holds_the_follow_ups_about_the_person_and_anonymising_clears_them(firm):
    store = firm.store
    linked = _follow_up(store, firm.lindqvist.id, "Send the budget template", contact_id=firm.anna.id)
    naming = _follow_up(store, firm.other.id, "Ask Karin whether Anna Bergström still advises them")
    _follow_up(store, firm.lindqvist.id, "Call Per Holm", contact_id=firm.per.id)
    _follow_up(store, firm.other.id, "Offer to Karin Ek")
    done = store.set_follow_up_done(linked.id, user="anna")

    export = store.contact_data_export(firm.anna.id, user="boss")
    rows = {row["id"]: row for row in export["follow_ups"]}
    assert set(rows) == {linked.id, naming.id}  # not Per's, not Karin's
    assert rows[linked.id]["contact_id"] == firm.anna.id and rows[linked.id]["done"] is True
    assert rows[linked.id]["done_by"] == "anna" and rows[linked.id]["done_at"] == done.done_at.isoformat()
    assert rows[naming.id]["what"] == "Ask Karin whether Anna Bergström still advises them"
    assert rows[naming.id]["due_on"] == linked.due_on.isoformat()
    json.dumps(export)  # JSON-ready as it is
    assert "Send the budget template" in personal_data_files(store, firm.anna.id, user="boss")[
        f"contact-{firm.anna.id}.json"].decode()

    store.anonymise_contact(firm.anna.id, user="boss")
    assert store.get_follow_up(naming.id).what == "Ask Karin whether [anonymised] still advises them"
    assert store.get_follow_up(linked.id).contact_id == firm.anna.id  # still about the (anonymised) person
    history = store.record_history("follow_ups", naming.id)
    assert not any("bergstr" in str(value).lower() for value in [*history["old_value"], *history["new_value"]])
    for trace in OLD_TRACES:
        assert _traces(store, trace) == [], trace
    again = store.contact_data_export(firm.anna.id, user="boss")
    assert {row["id"] for row in again["follow_ups"]} == {linked.id}  # the text no longer names her


def test_a_copy_read_before_the_anonymisation_cannot_write_the_person_back(firm):
    """Manager anna has the contact person, a comment and an event naming them open; an administrator anonymises
    the person; anna's saves from those copies are refused (nothing written), and what she opens again can be
    edited — without the name."""
    store = firm.store
    contact, comment, event = (store.get_contact(firm.anna.id), store.get_comment(firm.comments.names.id),
                               store.get_event(firm.meeting.id))
    store.anonymise_contact(firm.anna.id, user="boss")
    after = (store.get_contact(firm.anna.id), store.get_comment(firm.comments.names.id),
             store.get_event(firm.meeting.id))
    contact.notes = "Call her mobile."  # a field the anonymisation emptied, or one it left: refused all the same
    comment.body += " Follow up in May."
    event.event_type = None
    for save in (lambda: store.save_contact(contact, user="anna"), lambda: store.edit_comment(comment, user="anna"),
                 lambda: store.save_event(event, user="anna")):
        with pytest.raises(cc.PermissionDenied, match="anonymised"):
            save()
    now = (store.get_contact(firm.anna.id), store.get_comment(firm.comments.names.id),
           store.get_event(firm.meeting.id))
    assert [(r.version, r.values()) for r in now] == [(r.version, r.values()) for r in after]
    assert "Bergström" not in now[1].body and "Bergström" not in now[2].title
    assert now[1].version == comment.version + 1 and now[1].edited_by == "boss"  # a change of its own, stamped
    for table, record in (("contacts", now[0]), ("comments", now[1]), ("events", now[2])):
        history = store.record_history(table, record.id)
        made = history[history["kind"] == "anonymise"]
        assert len(made) >= 1 and set(made["version"]) == {record.version}, table
        assert not any("bergstr" in str(v).lower() for v in [*history["old_value"], *history["new_value"]]), table
    fresh = store.get_comment(firm.comments.names.id)
    fresh.body += " Follow up in May."
    assert store.edit_comment(fresh, user="anna").body.endswith("Follow up in May.")


def test_an_opportunity_and_the_invoice_reference_that_name_the_person_are_exported_and_anonymised(firm):
    """"Everywhere" left her name in an opportunity's title and in the customer's "Their reference" on the invoices
    (and that field's history, and the timeline); the export left both out."""
    store = firm.store
    opportunity = store.new_opportunity(firm.other.id, owner="anna")
    opportunity.param.update(title="Advisory for Anna Bergström", amount=1000.0)
    opportunity = store.create_opportunity(opportunity, user="anna")
    customer = store.get_customer(firm.lindqvist.id)
    customer.invoicing.their_reference = "Anna Bergström"
    store.save_customer(customer, user="anna")
    version = store.get_customer(firm.lindqvist.id).version

    export = store.contact_data_export(firm.anna.id, user="boss")
    assert [row["id"] for row in export["opportunities"]] == [opportunity.id]
    assert [(row["id"], row["their_reference"]) for row in export["invoice_references"]] == [
        (firm.lindqvist.id, "Anna Bergström")]
    json.dumps(export)

    store.anonymise_contact(firm.anna.id, user="boss")
    assert store.get_opportunity(opportunity.id).title == "Advisory for [anonymised]"
    after = store.get_customer(firm.lindqvist.id)
    assert after.invoicing.their_reference == "[anonymised]" and after.version == version + 1
    for trace in OLD_TRACES:
        assert _traces(store, trace) == [], trace
    stale = customer  # a card read before cannot write her back
    stale.invoicing.our_reference = "Per"
    with pytest.raises(cc.ConflictError):
        store.save_customer(stale, user="anna")
