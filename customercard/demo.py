"""Seeded demo data: realistic Nordic firms with contacts, projects, ten years of invoices, comments and CRM.

``build_demo(store, customers=2000, seed=1)`` fills an empty store. The same seed (and the same ``today``)
gives the same data. Small pools of names, streets and phone numbers come from Faker (sv_SE, da_DK,
no_NO — Faker's Norwegian Bokmål —, fi_FI); the bulk is combined from them with NumPy, so 100,000
customers with 5,000,000 invoice lines load in well under two minutes. Phone numbers are each customer's and
contact's own, as in real data (a valid number from the pool with its last four digits drawn anew), and so are
most nicknames (made from the customer's own name and city); people's names repeat, as they do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import phonenumbers
from faker import Faker
from tqdm import tqdm

from . import i18n, validators
from .firm_defaults import install_defaults
from .models import Settings, User
from .passwords import hash_password
from .store import SYSTEM_PREFIX, Store

ACTOR = SYSTEM_PREFIX + "demo"
#: The documented password of the demo users (README). Short and common on purpose, so it would not pass the
#: password policy that people's passwords pass: the demo builder hashes it itself and hands the store the hash
#: (``add_user(..., password_hash=...)``, for system actors only). Change it before real use.
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the demo users

#: (login, name, role, projects access) — every role is present.
DEMO_USERS = [
    ("admin", "Alva Lindqvist", "admin", True),
    ("anna", "Anna Berg", "manager", True),
    ("erik", "Erik Nilsson", "manager", False),
    ("maria", "Maria Jensen", "manager", True),
    ("olli", "Olli Virtanen", "manager", True),
    ("kari", "Kari Haugen", "manager", False),
    ("vera", "Vera Holm", "viewer", False),
]
MANAGERS = [login for login, _, role, _ in DEMO_USERS if role in ("admin", "manager")]

COUNTRIES = ["SE", "DK", "NO", "FI"]
COUNTRY_WEIGHTS = [0.55, 0.15, 0.15, 0.15]
LOCALES = {"SE": "sv_SE", "DK": "da_DK", "NO": "no_NO", "FI": "fi_FI"}
CURRENCY = {"SE": "SEK", "DK": "DKK", "NO": "NOK", "FI": "EUR"}
RATE_TO_SEK = {"SEK": 1.0, "DKK": 1.55, "NOK": 0.98, "EUR": 11.5}
LANGUAGE = {"SE": "Swedish", "DK": "Danish", "NO": "Norwegian", "FI": "Finnish"}
LEGAL_FORMS = {"SE": ["AB", "AB", "AB", "HB", "KB"], "DK": ["ApS", "A/S", "I/S"], "NO": ["AS", "AS", "ASA", "DA"],
               "FI": ["Oy", "Oy", "Oyj", "Ky"]}
TRADES = {
    "SE": ["Konsult", "Redovisning", "Revision", "Arkitekter", "Bygg", "Fastigheter", "Logistik", "Teknik",
           "Design", "Data", "Media", "Invest", "Handel", "Transport", "Energi", "Vård", "Juridik", "Event"],
    "DK": ["Rådgivning", "Revision", "Arkitekter", "Byg", "Ejendomme", "Logistik", "Teknik", "Design", "Data",
           "Medie", "Invest", "Handel", "Transport", "Energi", "Advokater"],
    "NO": ["Rådgivning", "Revisjon", "Arkitekter", "Bygg", "Eiendom", "Logistikk", "Teknikk", "Design", "Data",
           "Media", "Invest", "Handel", "Transport", "Energi", "Advokatfirma"],
    "FI": ["Konsultointi", "Tilintarkastus", "Arkkitehdit", "Rakennus", "Kiinteistöt", "Logistiikka",
           "Tekniikka", "Design", "Data", "Media", "Invest", "Kauppa", "Kuljetus", "Energia", "Asianajotoimisto"],
}
TITLES = ["CEO", "CFO", "Head of finance", "Accountant", "HR manager", "Office manager", "IT manager",
          "Purchasing manager", "Project manager", "Chair of the board", "Legal counsel", "Marketing manager"]
PROJECT_NAMES = ["Annual audit", "Year-end closing", "Tax return", "Payroll service", "Strategy workshop",
                 "IT security review", "Website redesign", "ERP implementation", "Due diligence",
                 "Board training", "Process mapping", "GDPR review", "Budget advisory", "Interim CFO",
                 "Office move", "Cloud migration", "Management coaching", "Transfer pricing"]
COMMENT_TEXTS = [
    "Called about the invoice for last month; they will pay by Friday.",
    "Met the CFO, interested in extending the payroll service.",
    "New reference on invoices from next quarter.",
    "Asked for a quote on the year-end closing.",
    "Complained about response times in December; followed up with the team.",
    "Renewed the framework agreement for two years.",
    "Their office moves in the spring; update the address when confirmed.",
    "Prefers contact by e-mail, not phone.",
    "Sent the proposal for the IT security review.",
    "Annual meeting held; discussed growth plans in the Nordics.",
    "Invoice disputed: hours on the audit higher than estimated. Credit note agreed.",
    "Good feedback on the workshop, want a follow-up in the autumn.",
    "New CEO from next month; book an introduction meeting.",
    "Paused the retainer until the reorganisation is done.",
    "Recommended us to a partner company.",
]
EVENT_TITLES = ["Introduction meeting", "Quarterly review", "Follow-up call", "Proposal presentation",
                "Year-end planning", "Lunch with the CFO", "Workshop on processes", "Contract renewal",
                "Site visit", "Seminar invitation"]
OPPORTUNITY_TITLES = ["Framework agreement", "Audit engagement", "Payroll outsourcing", "Advisory retainer",
                      "IT security programme", "Tax advisory", "Interim management", "Training package",
                      "ERP project", "Due diligence"]
FOLLOW_UP_TEXTS = ["Call back about the offer", "Send the revised proposal", "Book the quarterly review",
                  "Remind them of the unpaid invoice", "Ask for the signed agreement", "Check the new invoice address",
                  "Send the year-end checklist", "Follow up on the workshop feedback", "Ask about next year's budget",
                  "Introduce the payroll service", "Confirm the audit dates", "Send the meeting notes"]
#: (kind, how many of a manager's follow-ups) — overdue, due this week, due later, done — each drawn per manager.
FOLLOW_UP_PLAN = (("overdue", (1, 4)), ("week", (2, 4)), ("later", (1, 3)), ("done", (2, 4)))
LOST_REASONS = ["Price too high", "Chose a competitor", "Project cancelled", "No budget this year", "Timing"]
STAGE_PROBABILITY = {"Lead": 10.0, "Qualified": 25.0, "Proposal": 50.0, "Negotiation": 70.0, "Verbal yes": 90.0}


@dataclass
class DemoSummary:
    customers: int
    contacts: int
    projects: int
    invoices: int
    comments: int
    events: int
    opportunities: int
    relations: int
    seconds: float
    follow_ups: int = 0


class DemoPools:
    """Small per-country pools of realistic values, made once from Faker."""

    def __init__(self, seed: int, rng: np.random.Generator) -> None:
        self.first, self.last, self.streets, self.places, self.phones, self.mobiles = {}, {}, {}, {}, {}, {}
        for country, locale in LOCALES.items():
            fake = Faker(locale)
            fake.seed_instance(seed)
            self.first[country] = sorted({fake.first_name() for _ in range(400)})
            self.last[country] = sorted({fake.last_name() for _ in range(600)})
            self.streets[country] = sorted({fake.street_name() for _ in range(500)})
            places = set()
            for _ in range(300):
                try:
                    places.add((validators.check_postal_code(fake.postcode(), country), fake.city()))
                except ValueError:
                    continue
            self.places[country] = sorted(places)
            self.phones[country] = _phone_pool(country, rng, mobile=False)
            self.mobiles[country] = _phone_pool(country, rng, mobile=True)


_PHONE_PATTERNS = {
    ("SE", False): ["+468{:07d}", "+4631{:06d}", "+4640{:06d}", "+4618{:06d}"],
    ("SE", True): ["+4670{:07d}", "+4673{:07d}", "+4676{:07d}"],
    ("DK", False): ["+453{:07d}", "+457{:07d}", "+458{:07d}"],
    ("DK", True): ["+452{:07d}", "+454{:07d}"],
    ("NO", False): ["+4722{:06d}", "+4755{:06d}", "+4773{:06d}"],
    ("NO", True): ["+474{:07d}", "+479{:07d}"],
    ("FI", False): ["+3589{:07d}", "+3582{:07d}", "+3583{:07d}"],
    ("FI", True): ["+35840{:07d}", "+35850{:07d}"],
}


def _phone_pool(country: str, rng: np.random.Generator, mobile: bool, size: int = 400) -> list[str]:
    pool: list[str] = []
    patterns = _PHONE_PATTERNS[(country, mobile)]
    while len(pool) < size:
        pattern = patterns[int(rng.integers(len(patterns)))]
        width = int(re.search(r"\{:0(\d)d\}", pattern).group(1))
        candidate = pattern.format(int(rng.integers(10 ** (width - 1), 10 ** width)))
        number = phonenumbers.parse(candidate, None)
        if phonenumbers.is_valid_number(number):
            pool.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    return pool


def own_number(pool: list[str], rng: np.random.Generator) -> str:
    """A number of its own: one from the pool (valid, formatted) with its last four digits drawn anew. Numbering
    plans set validity by prefix and length, so the number stays valid (the tests check a sample)."""
    chars = list(_pick(rng, pool))
    positions = [i for i, ch in enumerate(chars) if ch.isdigit()][-4:]
    for i, digit in zip(positions, rng.integers(0, 10, len(positions)), strict=True):
        chars[i] = str(digit)
    return "".join(chars)


def _org_number(country: str, rng: np.random.Generator) -> str:
    """A registration number with a correct check digit for the country."""
    while True:
        if country == "SE":
            body = "55" + "".join(str(d) for d in rng.integers(0, 10, 7))
            for check in range(10):
                if validators.luhn_ok(body + str(check)):
                    return validators.check_org_number(body + str(check), "SE")
        elif country == "DK":
            body = str(int(rng.integers(1, 10))) + "".join(str(d) for d in rng.integers(0, 10, 6))
            total = sum(int(d) * w for d, w in zip(body, (2, 7, 6, 5, 4, 3, 2), strict=True))
            check = (-total) % 11
            if check < 10:
                return validators.check_org_number(body + str(check), "DK")
        elif country == "NO":
            body = str(int(rng.integers(8, 10))) + "".join(str(d) for d in rng.integers(0, 10, 7))
            remainder = sum(int(d) * w for d, w in zip(body, (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
            check = 0 if remainder == 0 else 11 - remainder
            if check < 10:
                return validators.check_org_number(body + str(check), "NO")
        else:
            body = str(int(rng.integers(1, 3))) + "".join(str(d) for d in rng.integers(0, 10, 6))
            remainder = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
            if remainder != 1:
                check = 0 if remainder == 0 else 11 - remainder
                return validators.check_org_number(body + str(check), "FI")


def _vat_number(country: str, org_number: str) -> str:
    digits = "".join(ch for ch in org_number if ch.isdigit())
    return {"SE": f"SE{digits}01", "DK": f"DK{digits}", "NO": f"NO{digits}MVA", "FI": f"FI{digits}"}[country]


def _slug(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "æ": "ae", "ø": "o", "é": "e", "ü": "u"})
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())[:24] or "firma"


def _pick(rng: np.random.Generator, items: list, size: int | None = None):
    index = rng.integers(0, len(items), size)
    if size is None:
        return items[int(index)]
    return [items[int(i)] for i in index]


def _ts(base: dt.datetime, seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.Timestamp(base) + pd.to_timedelta(seconds, unit="s")).astype("datetime64[us]")


def build_demo(store: Store, customers: int = 2000, seed: int = 1, today: dt.date | None = None,
               progress: bool = True, follow_ups: bool = True) -> DemoSummary:
    """Fill an empty store with demo data; returns what was made. ``follow_ups``: give each account manager a
    handful of follow-ups on their customers (some overdue, some due this week, some done), so the home page is
    filled; made last, from the same seed, so the rest of the data is the same with or without them."""
    import time

    started = time.perf_counter()
    if int(customers) < 1:  # before anything is written
        raise ValueError(f"Demo data needs at least one customer, not {customers}.")
    if not store.is_empty():
        raise ValueError(f"{store.location} holds data already: demo data goes into a new, empty database.")
    today = today or dt.date.today()
    rng = np.random.default_rng(seed)
    steps = tqdm(total=9, desc=i18n._("Demo data"), unit="step", disable=not progress, leave=False)

    def step(name: str) -> None:
        steps.set_postfix_str(name)
        steps.update(1)

    # (in English, whatever language the command runs in: the demo's records name its lists' values)
    install_defaults(store, Settings(start_address="Drottninggatan 1, 111 51 Stockholm"), language="en")
    for login, name, role, projects in DEMO_USERS:
        store.add_user(User(login=login, name=name, email=f"{login}@firm.example", role=role,
                            projects_access=projects), password_hash=hash_password(DEMO_PASSWORD), by=ACTOR)
    step("pools")
    pools = DemoPools(seed, rng)
    # DuckDB may take 80 % of the machine, and the generator's frames need room beside it
    with store.db.memory.bulk(), store.db.transaction():
        frame = _customers(store, pools, rng, customers, today)
        step("customers")
        history = _history(store, frame, rng, today)
        store.db.insert_df("customers", frame)
        store.db.insert_df("customer_changes", history)
        _segments(store, frame, rng)
        step("contacts")
        contacts = _contacts(store, pools, frame, rng)
        step("projects")
        projects = _projects(store, frame, rng, today)
        step("invoices")
        invoices = _invoices(store, frame, rng, today)
        step("comments")
        comments = _comments(store, frame, rng, today)
        step("events")
        events = _events(store, frame, contacts, rng, today)
        step("opportunities")
        opportunities = _opportunities(store, frame, rng, today)
        relations = _relations(store, frame, contacts, rng)
    made_follow_ups = _follow_ups(store, rng, today) if follow_ups else 0
    made = {"customers": len(frame), "contacts": len(contacts)}
    del frame, contacts, history  # a million customers' frames: let the index rebuild have the memory
    store.forget_cached()
    store.rebuild_search_index()
    store.db.checkpoint()
    step("done")
    steps.close()
    store.forget_cached()
    return DemoSummary(customers=made["customers"], contacts=made["contacts"], projects=projects, invoices=invoices,
                       comments=comments, events=events, opportunities=opportunities, relations=relations,
                       seconds=round(time.perf_counter() - started, 1), follow_ups=made_follow_ups)


def _label_ids(store: Store, list_name: str) -> dict[str, int]:
    frame = store.list_values(list_name)
    return dict(zip(frame["label"], frame["id"].astype(int), strict=True))


def _customers(store: Store, pools: DemoPools, rng: np.random.Generator, count: int,
               today: dt.date) -> pd.DataFrame:
    ids = store.db.reserve_ids("customers_id_seq", count)
    numbers = store.db.reserve_ids("customer_number_seq", count)
    country = rng.choice(COUNTRIES, size=count, p=COUNTRY_WEIGHTS)
    industries, statuses = _label_ids(store, "industries"), _label_ids(store, "statuses")
    terms, templates = _label_ids(store, "payment_terms"), _label_ids(store, "invoice_templates")
    languages, currencies = _label_ids(store, "invoice_languages"), _label_ids(store, "currencies")
    status_names = ["Active", "Active", "Active", "Active", "Prospect", "On hold", "Former customer"]
    rows = []
    seen_names: set[str] = set()
    start = dt.datetime.combine(today, dt.time(9)) - dt.timedelta(days=365 * 12)
    created_offsets = np.sort(rng.integers(0, 365 * 12 * 86400 - 40 * 86400, count))
    for i in range(count):
        c = str(country[i])
        trade = _pick(rng, TRADES[c])
        name = f"{_pick(rng, pools.last[c])} {trade} {_pick(rng, LEGAL_FORMS[c])}"
        if name in seen_names:
            name = f"{_pick(rng, pools.last[c])} & {_pick(rng, pools.last[c])} {trade} {_pick(rng, LEGAL_FORMS[c])}"
        seen_names.add(name)
        slug = _slug(name.rsplit(" ", 1)[0])
        tld = {"SE": "se", "DK": "dk", "NO": "no", "FI": "fi"}[c]
        postal, city = _pick(rng, pools.places[c])
        org = _org_number(c, rng)
        separate = bool(rng.random() < 0.15)
        inv_postal, inv_city = _pick(rng, pools.places[c]) if separate else ("", "")
        default_km = float(rng.choice([0, 0, 5, 10, 15, 25, 40, 60, 120]))
        max_km = None if rng.random() < 0.6 else default_km + float(rng.choice([0, 10, 50, 100]))
        phone = own_number(pools.phones[c], rng)
        created = start + dt.timedelta(seconds=int(created_offsets[i]))
        manager = _pick(rng, MANAGERS)
        nickname = ""
        if rng.random() < 0.1:
            nickname = f"{name.split()[0]}s {city}" if rng.random() < 0.6 else \
                "".join(w[0] for w in name.split()[:3]).upper()
        rows.append({
            "id": ids[i], "number": numbers[i], "name": name, "nickname": nickname, "account_manager": manager,
            "industry_id": industries[_pick(rng, list(industries))], "status_id": statuses[_pick(rng, status_names)],
            "archived": bool(rng.random() < 0.01), "merged_into": None,
            "visit_line1": f"{_pick(rng, pools.streets[c])} {int(rng.integers(1, 120))}",
            "visit_line2": "" if rng.random() < 0.85 else f"{int(rng.integers(1, 8))} tr",
            "visit_postal_code": postal, "visit_city": city, "visit_country": c,
            "phone": phone,
            "email": f"info@{slug}.{tld}", "website": f"https://www.{slug}.{tld}",
            "vat_number": _vat_number(c, org), "org_number": org, "gln": "",
            "use_invoice_address": separate,
            "invoice_line1": f"Box {int(rng.integers(100, 9999))}" if separate else "",
            "invoice_line2": "", "invoice_postal_code": inv_postal, "invoice_city": inv_city,
            "invoice_country": c if separate else "",
            "expenses_billable": bool(rng.random() < 0.8), "mileage_billable": bool(rng.random() < 0.7),
            "default_distance_km": default_km, "max_distance_km": max_km,
            "invoice_template_id": templates[_pick(rng, list(templates))],
            "payment_term_id": terms[_pick(rng, ["10 days net", "30 days net", "30 days net", "20 days net",
                                                 "45 days net"])],
            "currency_id": currencies[CURRENCY[c]], "calculate_vat": True, "vat_rate": 25.0,
            "discount_pct": float(rng.choice([0, 0, 0, 0, 5, 10])),
            "invoice_language_id": languages[LANGUAGE[c] if rng.random() < 0.8 else "English"],
            "our_reference": "", "their_reference": "",
            "erp_system": "Fortnox" if rng.random() < 0.3 else "", "erp_customer_id": "", "erp_synced_at": None,
            "created_at": created, "created_by": manager, "updated_at": created, "updated_by": manager,
            "version": 1,
        })
    frame = pd.DataFrame(rows)
    linked = frame["erp_system"] != ""
    frame.loc[linked, "erp_customer_id"] = frame.loc[linked, "number"].astype(str)
    frame["erp_synced_at"] = frame["erp_synced_at"].astype("datetime64[us]")
    frame.loc[linked, "erp_synced_at"] = frame.loc[linked, "created_at"].astype("datetime64[us]")
    for column in ("created_at", "updated_at"):
        frame[column] = frame[column].astype("datetime64[us]")
    frame["max_distance_km"] = frame["max_distance_km"].astype("float64")
    return frame


def _history(store: Store, customers: pd.DataFrame, rng: np.random.Generator, today: dt.date) -> pd.DataFrame:
    """A create row per key field, and a later status change — 20 to 400 days after the customer was made, and
    never after ``today`` — for about a third of the customers (whose rows in ``customers`` are updated to match)."""
    industries = {v: k for k, v in _label_ids(store, "industries").items()}
    statuses = {v: k for k, v in _label_ids(store, "statuses").items()}
    pieces = []
    for field, column, mapping in [("name", "name", None), ("account_manager", "account_manager", None),
                                   ("industry", "industry_id", industries), ("status", "status_id", statuses),
                                   ("visit_address.city", "visit_city", None), ("phone", "phone", None)]:
        values = customers[column].map(mapping) if mapping else customers[column]
        pieces.append(pd.DataFrame({"customer_id": customers["id"], "version": 1,
                                    "changed_at": customers["created_at"], "changed_by": customers["created_by"],
                                    "kind": "create", "field": field, "old_value": None,
                                    "new_value": values.astype(str)}))
    changed = customers[(rng.random(len(customers)) < 0.35)
                        & (customers["status_id"] != _label_ids(store, "statuses")["Prospect"])].copy()
    drawn = rng.integers(20, 400, len(changed)).astype(float)
    # the days a customer has had by the start of today: a change is dated within them, never in the future
    lived = ((pd.Timestamp(today) - changed["created_at"].astype("datetime64[us]")) / pd.Timedelta(days=1)).to_numpy()
    days = np.where(drawn < lived, drawn, np.maximum(lived, 0.0) * drawn / 400)
    later = changed["created_at"].astype("datetime64[us]") + pd.to_timedelta(days, unit="D")
    pieces.append(pd.DataFrame({"customer_id": changed["id"], "version": 2, "changed_at": later,
                                "changed_by": changed["account_manager"], "kind": "update", "field": "status",
                                "old_value": "Prospect", "new_value": changed["status_id"].map(statuses)}))
    history = pd.concat(pieces, ignore_index=True).sort_values(["customer_id", "changed_at", "version"])
    history.insert(0, "id", store.db.reserve_ids("customer_changes_id_seq", len(history)))
    history["changed_at"] = history["changed_at"].astype("datetime64[us]")
    # the customers that changed status later are at version 2, updated then by their account manager
    customers.loc[changed.index, "version"] = 2
    customers.loc[changed.index, "updated_at"] = later.astype("datetime64[us]")
    customers.loc[changed.index, "updated_by"] = changed["account_manager"]
    return history


def _segments(store: Store, customers: pd.DataFrame, rng: np.random.Generator) -> None:
    ids = store.criterion_value_ids()
    rows = []
    for customer_id in customers["id"]:
        rows.append((customer_id, ids[("Size", _pick(rng, ["Micro", "Small", "Small", "Medium", "Medium",
                                                           "Large", "Enterprise"]))]))
        if rng.random() < 0.7:
            for service in set(_pick(rng, ["Audit", "Tax", "Advisory", "Payroll", "IT", "Legal", "Training"],
                                     int(rng.integers(1, 4)))):
                rows.append((customer_id, ids[("Services", service)]))
        if rng.random() < 0.5:
            rows.append((customer_id, ids[("Source", _pick(rng, ["Referral", "Website", "Event", "Partner",
                                                                 "Cold call"]))]))
    store.db.insert_df("customer_segments", pd.DataFrame(rows, columns=["customer_id", "value_id"]))


def _contacts(store: Store, pools: DemoPools, customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    counts = rng.choice([0, 1, 2, 3, 3, 4, 5, 6], size=len(customers))
    rows = []
    for (customer_id, country, email, created), count in zip(
            customers[["id", "visit_country", "email", "created_at"]].itertuples(index=False), counts,
            strict=True):
        domain = email.split("@", 1)[1]
        for _ in range(int(count)):
            first, last = _pick(rng, pools.first[country]), _pick(rng, pools.last[country])
            rows.append({"customer_id": customer_id, "first_name": first, "last_name": last,
                         "title": _pick(rng, TITLES), "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                         "phone": own_number(pools.phones[country], rng) if rng.random() < 0.5 else "",
                         "mobile": own_number(pools.mobiles[country], rng), "active": bool(rng.random() > 0.15),
                         "notes": "", "created_at": created, "created_by": ACTOR, "updated_at": created,
                         "updated_by": ACTOR, "version": 1})
    frame = pd.DataFrame(rows, columns=["customer_id", "first_name", "last_name", "title", "email", "phone",
                                        "mobile", "active", "notes", "created_at", "created_by", "updated_at",
                                        "updated_by", "version"])
    frame.insert(0, "id", store.db.reserve_ids("contacts_id_seq", len(frame)))
    for column in ("created_at", "updated_at"):
        frame[column] = frame[column].astype("datetime64[us]")
    store.db.insert_df("contacts", frame)
    return frame


def _projects(store: Store, customers: pd.DataFrame, rng: np.random.Generator, today: dt.date) -> int:
    rows = []
    for customer_id, created in customers[["id", "created_at"]].itertuples(index=False):
        first_day = max(created.date(), today - dt.timedelta(days=3650))
        span = max((today - first_day).days, 1)
        for _ in range(int(rng.choice([0, 1, 2, 3, 4, 6]))):
            start = first_day + dt.timedelta(days=int(rng.integers(0, span)))
            end = start + dt.timedelta(days=int(rng.integers(14, 400)))
            rows.append({"customer_id": customer_id, "name": f"{_pick(rng, PROJECT_NAMES)} {start.year}",
                         "status": "closed" if end < today else "active", "manager": _pick(rng, MANAGERS),
                         "start_date": start, "end_date": end,
                         "description": "Engagement agreed in the framework contract."})
    frame = pd.DataFrame(rows, columns=["customer_id", "name", "status", "manager", "start_date", "end_date",
                                        "description"])
    frame.insert(0, "id", store.db.reserve_ids("projects_id_seq", len(frame)))
    frame.insert(2, "number", ["P" + str(10000 + int(i)) for i in frame["id"]])
    store.db.insert_df("projects", frame)
    return len(frame)


#: Customers whose invoice lines are made and written at a time (a million customers' 55 million lines made at
#: once brought the build to 23 GB of memory).
INVOICE_CHUNK = 100_000


def _invoices(store: Store, customers: pd.DataFrame, rng: np.random.Generator, today: dt.date) -> int:
    """About fifty invoice lines per customer over ten years (ten a year while active); 3 % are credit notes."""
    statuses = _label_ids(store, "statuses")
    total = sum(_invoice_lines(store, customers.iloc[start:start + INVOICE_CHUNK], statuses, rng, today)
                for start in range(0, len(customers), INVOICE_CHUNK))
    # three in five of the lines dated within one of the customer's projects are that project's (the last made):
    # the year's invoices by project, a project's invoices, as a firm's books have them
    store.db.execute("UPDATE invoices SET project_id = m.project_id FROM ("
                     "SELECT i.id, max(p.id) AS project_id FROM invoices i JOIN projects p "
                     "ON p.customer_id = i.customer_id AND i.invoice_date BETWEEN p.start_date AND p.end_date "
                     "WHERE i.id % 5 < 3 GROUP BY i.id) m WHERE invoices.id = m.id")
    store.db.execute("INSERT INTO invoiced_yearly (customer_id, year, amount, invoices) "
                     "SELECT customer_id, CAST(EXTRACT(YEAR FROM invoice_date) AS INTEGER), sum(amount_base), count(*) "
                     "FROM invoices GROUP BY customer_id, EXTRACT(YEAR FROM invoice_date) ORDER BY customer_id, 2")
    return total


def _invoice_lines(store: Store, customers: pd.DataFrame, statuses: dict[str, int], rng: np.random.Generator,
                   today: dt.date) -> int:
    """The invoice lines of some customers, written; returns how many."""
    n = len(customers)
    years = np.arange(today.year - 9, today.year + 1)
    start_year = customers["created_at"].dt.year.to_numpy()
    lam = rng.lognormal(mean=2.15, sigma=0.6, size=n)
    invoiced = (customers["status_id"] != statuses["Prospect"]).to_numpy()
    former = (customers["status_id"] == statuses["Former customer"]).to_numpy()
    stop_year = np.where(former, today.year - rng.integers(1, 6, n), today.year)
    active = (years[None, :] >= start_year[:, None]) & (years[None, :] <= stop_year[:, None]) & invoiced[:, None]
    counts = rng.poisson(lam[:, None].repeat(len(years), axis=1)) * active
    total = int(counts.sum())
    customer_index = np.repeat(np.repeat(np.arange(n), len(years)), counts.ravel())
    year = np.repeat(np.tile(years, n), counts.ravel())
    last_day = np.where(year == today.year, today.timetuple().tm_yday, 365)
    day = (rng.random(total) * last_day).astype(int)
    dates = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day.astype("timedelta64[D]")
    size = rng.lognormal(mean=0.0, sigma=0.7, size=n)
    amount_base = np.round(rng.lognormal(mean=9.6, sigma=0.8, size=total) * size[customer_index], -1)
    credit = rng.random(total) < 0.03
    amount_base = np.where(credit, -np.round(amount_base * rng.uniform(0.1, 1.0, total), -1), amount_base)
    currency = customers["visit_country"].map(CURRENCY).to_numpy()[customer_index]
    rate = pd.Series(currency).map(RATE_TO_SEK).to_numpy()
    ids = store.db.reserve_ids("invoices_id_seq", total)
    frame = pd.DataFrame({
        "id": ids, "customer_id": customers["id"].to_numpy()[customer_index],
        "project_id": pd.array([None] * total, dtype="Int64"),
        "number": pd.Series(ids).astype(str).radd("F"), "invoice_date": dates,
        "amount": np.round(amount_base / rate, 2), "currency": currency, "amount_base": amount_base,
    }).sort_values(["customer_id", "invoice_date"], kind="stable")
    store.db.insert_df("invoices", frame)
    return total


def _comments(store: Store, customers: pd.DataFrame, rng: np.random.Generator, today: dt.date) -> int:
    counts = rng.choice([0, 1, 2, 3, 4, 5, 8], size=len(customers))
    owner = np.repeat(customers["id"].to_numpy(), counts)
    total = len(owner)
    written = pd.Series(pd.Timestamp(today) - pd.to_timedelta(rng.integers(0, 3 * 365, total), unit="D"))
    authors = np.array(_pick(rng, MANAGERS, total), dtype=object)
    frame = pd.DataFrame({
        "id": store.db.reserve_ids("comments_id_seq", total), "customer_id": owner,
        "written_on": written.dt.date, "author": authors,
        "body": np.array(COMMENT_TEXTS, dtype=object)[rng.integers(0, len(COMMENT_TEXTS), total)],
        "kind": "comment", "recipients": "",
        "created_at": (written + pd.to_timedelta(rng.integers(8 * 3600, 17 * 3600, total), unit="s"))
        .astype("datetime64[us]"),
        "created_by": authors,
    })
    store.db.insert_df("comments", frame)
    return total


def _events(store: Store, customers: pd.DataFrame, contacts: pd.DataFrame, rng: np.random.Generator,
            today: dt.date) -> int:
    types = list(_label_ids(store, "event_types").items())
    by_customer = contacts.groupby("customer_id")["id"].apply(list).to_dict()
    rows = []
    now = dt.datetime.combine(today, dt.time(12))
    for customer_id in customers["id"]:
        for _ in range(int(rng.choice([0, 0, 1, 2, 3, 5]))):
            starts = now + dt.timedelta(days=int(rng.integers(-700, 90)), hours=int(rng.integers(-3, 5)))
            starts = starts.replace(minute=int(rng.choice([0, 15, 30, 45])), second=0, microsecond=0)
            owner = _pick(rng, MANAGERS)
            past = starts < now
            status = ("done" if rng.random() < 0.85 else "cancelled") if past else \
                ("planned" if rng.random() < 0.95 else "cancelled")
            type_label, type_id = types[int(rng.integers(len(types)))]
            people = by_customer.get(customer_id, [])
            made = min(starts - dt.timedelta(days=14), now - dt.timedelta(days=1))  # planned before, never later
            rows.append({"customer_id": customer_id, "title": _pick(rng, EVENT_TITLES), "event_type_id": type_id,
                         "starts_at": starts, "ends_at": starts + dt.timedelta(minutes=int(rng.choice([30, 60, 90]))),
                         "owner": owner, "participants": json.dumps(sorted({owner, _pick(rng, MANAGERS)})),
                         "contact_ids": json.dumps(people[:1]),
                         "description": f"{type_label} with the customer.", "status": status,
                         "status_changed_by": owner if status != "planned" else "",
                         "status_changed_at": min(starts + dt.timedelta(hours=2), now)
                         if status != "planned" else None,
                         "created_at": made, "created_by": owner, "updated_at": made, "updated_by": owner,
                         "version": 1})
    frame = pd.DataFrame(rows, columns=["customer_id", "title", "event_type_id", "starts_at", "ends_at", "owner",
                                        "participants", "contact_ids", "description", "status",
                                        "status_changed_by", "status_changed_at", "created_at", "created_by",
                                        "updated_at", "updated_by", "version"])
    frame.insert(0, "id", store.db.reserve_ids("events_id_seq", len(frame)))
    for column in ("starts_at", "ends_at", "status_changed_at", "created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    store.db.insert_df("events", frame)
    return len(frame)


def _opportunities(store: Store, customers: pd.DataFrame, rng: np.random.Generator, today: dt.date) -> int:
    stages = list(_label_ids(store, "opportunity_stages").items())
    rows = []
    now = dt.datetime.combine(today, dt.time(10))
    for customer_id, country in customers[["id", "visit_country"]].itertuples(index=False):
        for _ in range(int(rng.choice([0, 0, 0, 1, 1, 2, 3]))):
            stage, stage_id = stages[int(rng.integers(len(stages)))]
            status = _pick(rng, ["pipeline", "pipeline", "pipeline", "won", "lost"])
            owner = _pick(rng, MANAGERS)
            close = today + dt.timedelta(days=int(rng.integers(-500, 540)))
            if status == "pipeline" and close < today:
                close = today + dt.timedelta(days=int(rng.integers(7, 400)))
            created = now - dt.timedelta(days=int(rng.integers(30, 600)))
            rows.append({"customer_id": customer_id, "title": _pick(rng, OPPORTUNITY_TITLES),
                         "amount": float(np.round(rng.lognormal(11.5, 0.8), -3)), "currency": CURRENCY[country],
                         "probability": 100.0 if status == "won" else (0.0 if status == "lost"
                                                                       else STAGE_PROBABILITY.get(stage, 50.0)),
                         "stage_id": stage_id, "expected_close": close, "owner": owner, "status": status,
                         "lost_reason": _pick(rng, LOST_REASONS) if status == "lost" else "",
                         "status_changed_by": owner if status != "pipeline" else "",
                         "status_changed_at": created + dt.timedelta(days=20) if status != "pipeline" else None,
                         "created_at": created, "created_by": owner, "updated_at": created, "updated_by": owner,
                         "version": 1})
    frame = pd.DataFrame(rows, columns=["customer_id", "title", "amount", "currency", "probability", "stage_id",
                                        "expected_close", "owner", "status", "lost_reason", "status_changed_by",
                                        "status_changed_at", "created_at", "created_by", "updated_at",
                                        "updated_by", "version"])
    frame.insert(0, "id", store.db.reserve_ids("opportunities_id_seq", len(frame)))
    for column in ("status_changed_at", "created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    store.db.insert_df("opportunities", frame)
    return len(frame)


def _relations(store: Store, customers: pd.DataFrame, contacts: pd.DataFrame, rng: np.random.Generator) -> int:
    types = _label_ids(store, "relation_types")
    ids = customers["id"].to_numpy()
    rows = []
    for customer_id, created in customers[["id", "created_at"]].itertuples(index=False):
        if rng.random() < 0.06 and len(ids) > 1:
            other = int(ids[int(rng.integers(len(ids)))])
            if other != customer_id:
                label = _pick(rng, ["Parent company of", "Partner of", "Supplier to", "Referred", "Competitor of"])
                rows.append({"customer_id": customer_id, "relation_type_id": types[label],
                             "other_customer_id": other, "other_contact_id": None,
                             "note": "", "created_at": created, "created_by": ACTOR})
        if rng.random() < 0.02 and len(contacts):
            contact = contacts.iloc[int(rng.integers(len(contacts)))]
            if int(contact["customer_id"]) != customer_id:
                rows.append({"customer_id": customer_id, "relation_type_id": types["Board member at"],
                             "other_customer_id": None, "other_contact_id": int(contact["id"]),
                             "note": "Sits on the board.", "created_at": created, "created_by": ACTOR})
    frame = pd.DataFrame(rows, columns=["customer_id", "relation_type_id", "other_customer_id", "other_contact_id",
                                        "note", "created_at", "created_by"])
    frame["other_customer_id"] = frame["other_customer_id"].astype("Int64")
    frame["other_contact_id"] = frame["other_contact_id"].astype("Int64")
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[us]")
    frame.insert(0, "id", store.db.reserve_ids("relations_id_seq", len(frame)))
    store.db.insert_df("relations", frame)
    return len(frame)


def _follow_ups(store: Store, rng: np.random.Generator, today: dt.date) -> int:
    """A handful of follow-ups per account manager on their own customers: some overdue, some due this week, some
    later, some done; now and then about one of the customer's contact persons. Each is checked by the model and
    written with its history as made (and marked done) by its owner on a day before ``today``."""
    from .models import FollowUp
    from .store.records import diff_records, write_record_changes

    choices = store.choices()
    noon = dt.datetime.combine(today, dt.time(12))
    made = 0
    for manager in MANAGERS:
        customers = [int(row[0]) for row in store.db.rows(
            "SELECT id FROM customers WHERE account_manager = ? AND NOT archived AND merged_into IS NULL ORDER BY id",
            [manager])]
        if not customers:
            continue
        kinds = [kind for kind, (low, high) in FOLLOW_UP_PLAN for _ in range(int(rng.integers(low, high + 1)))]
        chosen = rng.choice(len(customers), size=len(kinds), replace=len(kinds) > len(customers))
        for kind, index in zip(kinds, chosen, strict=True):
            customer_id = customers[int(index)]
            due = today + dt.timedelta(days=int({"overdue": rng.integers(-14, 0), "week": rng.integers(0, 7),
                                                 "later": rng.integers(8, 45), "done": rng.integers(-40, 3)}[kind]))
            contacts = [row[0] for row in store.db.rows(
                "SELECT id FROM contacts WHERE customer_id = ? AND active ORDER BY id", [customer_id])]
            contact_id = int(contacts[0]) if contacts and rng.random() < 0.5 else None
            follow_up = FollowUp(customer_id=customer_id, what=_pick(rng, FOLLOW_UP_TEXTS), due_on=due,
                                 owner=manager, contact_id=contact_id)
            follow_up.check(choices)
            created = noon - dt.timedelta(days=int(rng.integers(3, 30)), hours=int(rng.integers(0, 3)))
            done_at = min(created + dt.timedelta(days=int(rng.integers(1, 20))), noon - dt.timedelta(hours=1)) \
                if kind == "done" else None
            with store.db.transaction() as cur:
                follow_up.id = cur.execute(
                    "INSERT INTO follow_ups (customer_id, what, due_on, owner, contact_id, opportunity_id, done, "
                    "done_by, done_at, created_at, created_by, updated_at, updated_by, version) "
                    "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    [customer_id, follow_up.what, due, manager, contact_id, done_at is not None,
                     manager if done_at else "", done_at, created, manager, done_at or created, manager,
                     2 if done_at else 1]).fetchone()[0]
                write_record_changes(store.db, cur, "follow_ups", follow_up.id, customer_id, manager, created,
                                     "create", diff_records(None, follow_up), 1)
                if done_at is not None:
                    write_record_changes(store.db, cur, "follow_ups", follow_up.id, customer_id, manager, done_at,
                                         "update", {"done": (False, True)}, 2)
            made += 1
    return made
