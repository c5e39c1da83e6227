"""Follow-ups (something to do at a customer by a day, owned by a user), the claim that keeps their daily reminder
e-mail to once a day per person, and what the home page remembers per user (when they last looked, the cards they
opened) and reads across customers (changes by others, invoicing behind last year's).

Follow-ups are not part of the CRM module's switch: they are the account managers' own to-do list and stay when the
firm switches relations, events and opportunities off (a link to an opportunity is then simply not shown).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import formatting
from ..errors import ValidationError
from ..i18n import _
from ..models import FollowUp
from .backend import Backend, counted
from .database import utcnow
from .part import Part
from .records import checked_edit, first_version, insert_record, record_from_row, stored_row, update_record

if TYPE_CHECKING:
    from .activity import ActivityStore
    from .admin import AdminStore
    from .customers import CustomerStore
    from .prefs import PrefsStore

FOLLOW_UP_COLUMNS = ("id", "customer_id", "what", "due_on", "owner", "contact_id", "opportunity_id", "done", "done_by",
                     "done_at", "version")
#: The columns of :meth:`FollowUpStore.follow_ups`.
FOLLOW_UP_FRAME = ["id", "customer_id", "customer_name", "customer_number", "account_manager", "what", "due_on",
                   "owner", "owner_name", "contact_id", "contact_name", "opportunity_id", "opportunity_title", "done",
                   "done_by", "done_at", "overdue", "version"]
#: How many opened cards the store keeps per user.
RECENT_CARDS = 20


def _follow_up_filters(customer_id: int | None = None, owner: str | None = None, open_only: bool = False,
                       contact_id: int | None = None, opportunity_id: int | None = None,
                       due_by: dt.date | None = None, account_manager: str | None = None,
                       due_from: dt.date | None = None) -> tuple[list[str], list[Any]]:
    """The conditions on follow_ups (as ``f``) and their parameters that the filters of
    :meth:`FollowUpStore.follow_ups` name."""
    where, params = ["TRUE"], []
    for column, value in (("f.customer_id", customer_id), ("f.contact_id", contact_id),
                          ("f.opportunity_id", opportunity_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(int(value))
    if owner is not None:
        where.append("f.owner = ?")
        params.append(owner)
    if account_manager is not None:
        where.append("f.customer_id IN (SELECT id FROM customers WHERE account_manager = ?)")
        params.append(account_manager)
    if open_only:
        where.append("NOT f.done")
    for condition, day in (("f.due_on <= ?", due_by), ("f.due_on >= ?", due_from)):
        if day is not None:
            where.append(condition)
            params.append(day)
    return where, params


class FollowUpStore(Part):
    """Part of :class:`customercard.store.Store`: follow-ups, their reminder claims, and the home page's reads."""

    uses = ("activity", "admin", "customers", "prefs")
    activity: ActivityStore
    admin: AdminStore
    customers: CustomerStore
    prefs: PrefsStore

    db: Backend

    # -- follow-ups ----------------------------------------------------------------------------------------
    def firm_today(self) -> dt.date:
        """Today in the firm's time zone (what is due and overdue is counted by it)."""
        return dt.datetime.now(formatting.time_zone(self.activity.firm_setting("time_zone"))).date()

    def follow_ups(  # noqa: PLR0913, PLR0917 - filters, each by keyword
            self, customer_id: int | None = None, owner: str | None = None, open_only: bool = False,
            contact_id: int | None = None, opportunity_id: int | None = None, due_by: dt.date | None = None,
            account_manager: str | None = None, limit: int | None = None,
            due_from: dt.date | None = None) -> pd.DataFrame:
        """Follow-ups, open ones first by due day, then done ones (newest done first): of one customer, owner,
        contact person or opportunity, of the customers of an ``account_manager``, only open ones, only those due
        by a day (``due_by``) or from a day on (``due_from``). Columns: id, customer_id, customer_name,
        customer_number, account_manager, what, due_on, owner, owner_name, contact_id, contact_name, opportunity_id,
        opportunity_title, done, done_by, done_at, overdue (open and due before the firm's today), version."""
        where, params = _follow_up_filters(customer_id=customer_id, owner=owner, open_only=open_only,
                                           contact_id=contact_id, opportunity_id=opportunity_id, due_by=due_by,
                                           account_manager=account_manager, due_from=due_from)
        # The follow-ups first, then the few names they need by key: joining the big tables in one statement makes
        # DuckDB hash whole tables (contacts, opportunities) for a handful of rows.
        sql = ("SELECT f.id, f.customer_id, f.what, f.due_on, f.owner, f.contact_id, f.opportunity_id, f.done, "
               "f.done_by, f.done_at, f.version FROM follow_ups f WHERE " + " AND ".join(where))
        if limit is not None:  # the database orders and cuts; without a limit they are ordered here (a card's few:
            # DuckDB's ORDER BY costs about half a millisecond even for none)
            sql += (" ORDER BY CASE WHEN f.done THEN 1 ELSE 0 END, CASE WHEN f.done THEN NULL ELSE f.due_on END "
                    "NULLS LAST, f.done_at DESC NULLS LAST, f.id LIMIT ?")
            params.append(counted(limit))
        rows = self.db.records(sql, params)
        if limit is None:
            _order_follow_ups(rows)
        customers = self._by_key("SELECT id, name, number, account_manager FROM customers WHERE ",
                                 {r["customer_id"] for r in rows})
        contacts = self._by_key("SELECT id, trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) "
                                "FROM contacts WHERE ", {r["contact_id"] for r in rows})
        opportunities = self._by_key("SELECT id, title FROM opportunities WHERE ",
                                     {r["opportunity_id"] for r in rows})
        today = self.firm_today()
        for row in rows:
            row["due_on"] = _day(row["due_on"])
            row["overdue"] = bool(not row["done"] and row["due_on"] is not None and row["due_on"] < today)
            row["customer_name"], row["customer_number"], row["account_manager"] = customers.get(
                row["customer_id"], (None, None, None))
            row["owner_name"] = self.admin.user_name(row["owner"])
            row["contact_name"] = (contacts.get(row["contact_id"]) or (None,))[0] or None
            row["opportunity_title"] = (opportunities.get(row["opportunity_id"]) or (None,))[0]
        return _follow_up_frame(rows) if rows else _no_follow_ups().copy()

    def follow_up_counts(self, owner: str | None = None, due_by: dt.date | None = None,
                         account_manager: str | None = None) -> dict[str, int]:
        """How many open follow-ups (of an owner, of an ``account_manager``'s customers, due by a day) there are and
        how many of them are overdue: ``{"due": n, "overdue": m}``, counted whatever a list of them shows."""
        where, params = _follow_up_filters(owner=owner, open_only=True, due_by=due_by, account_manager=account_manager)
        row = self.db.row("SELECT count(*), sum(CASE WHEN f.due_on < ? THEN 1 ELSE 0 END) FROM follow_ups f WHERE "
                          + " AND ".join(where), [self.firm_today(), *params])
        return {"due": int(row[0] or 0), "overdue": int(row[1] or 0)}

    def _by_key(self, select: str, ids: set[Any]) -> dict[int, tuple[Any, ...]]:
        """{id: the other columns} of the rows with these ids (``select`` ends with WHERE)."""
        wanted = sorted(int(i) for i in ids if i is not None)
        if not wanted:
            return {}
        return {int(row[0]): tuple(row[1:]) for row in self.db.rows(
            select + self.db.in_list("id", len(wanted), ids=True), wanted)}

    def get_follow_up(self, follow_up_id: int) -> FollowUp:
        """One follow-up as a param object, with its version; NotFound when there is none."""
        row = stored_row(self.db, "SELECT " + ", ".join(FOLLOW_UP_COLUMNS) + " FROM follow_ups", follow_up_id,
                         _("No follow-up with id {follow_up_id}.").format(follow_up_id=follow_up_id))
        row["due_on"] = _day(row["due_on"])
        row["done"] = bool(row["done"])
        return record_from_row(FollowUp, row)

    def new_follow_up(self, customer_id: int, owner: str | None = None, contact_id: int | None = None,
                      opportunity_id: int | None = None) -> FollowUp:
        """An unsaved follow-up for a customer, due in a week, owned by ``owner``, to fill in and add."""
        return FollowUp(customer_id=int(customer_id), owner=owner or "", contact_id=contact_id,
                        opportunity_id=opportunity_id, due_on=self.firm_today() + dt.timedelta(days=7))

    def add_follow_up(self, follow_up: FollowUp, user: str | None = None) -> FollowUp:
        """Add a follow-up (owned by the writer unless another owner is given); recorded in its history."""
        login = self.customers.check_new_record(follow_up, user)
        self._check_links(follow_up)
        now = utcnow()
        with self.db.transaction() as cur:
            insert_record(self.db, cur, "follow_ups", follow_up, {
                "customer_id": follow_up.customer_id, **self._follow_up_row(follow_up),
                "done_by": login if follow_up.done else "", "done_at": now if follow_up.done else None,
                **first_version(login, now)}, login, now)
        follow_up.param.update(version=1, done_by=login if follow_up.done else "",
                               done_at=now if follow_up.done else None)
        return follow_up

    def save_follow_up(self, follow_up: FollowUp, user: str | None = None) -> FollowUp:
        """Save an edited follow-up (what, due day, owner, links, done) made from ``follow_up.version``; marking it
        done or open again records who and when. A stale save is refused with a conflict naming the fields."""
        login = self.admin.require(user, "write")
        with self.db.transaction() as cur:
            before = self.get_follow_up(follow_up.id)
            changes = checked_edit(self.db, "follow_ups", before, follow_up, self.admin.choices(), self._check_links)
            if not changes:
                return follow_up
            now = utcnow()
            done_by, done_at = before.done_by, before.done_at
            if "done" in changes:
                done_by, done_at = (login, now) if follow_up.done else ("", None)
            version = update_record(self.db, cur, "follow_ups", follow_up, {
                **self._follow_up_row(follow_up), "done_by": done_by, "done_at": done_at}, changes, login, now,
                lambda: self.get_follow_up(follow_up.id))
        follow_up.param.update(version=version, done_by=done_by, done_at=done_at)
        return follow_up

    def set_follow_up_done(self, follow_up_id: int, done: bool = True, user: str | None = None,
                           version: int | None = None) -> FollowUp:
        """Mark a follow-up done (or open again). ``version``: the version the person saw; refused with a conflict
        when someone changed it since."""
        follow_up = self.get_follow_up(follow_up_id)
        if version is not None:
            follow_up.version = int(version)
        follow_up.done = bool(done)
        return self.save_follow_up(follow_up, user=user)

    @staticmethod
    def _follow_up_row(f: FollowUp) -> dict[str, Any]:
        """The columns a follow-up's edit writes, with their values."""
        return {"what": f.what, "due_on": f.due_on, "owner": f.owner, "contact_id": f.contact_id,
                "opportunity_id": f.opportunity_id, "done": bool(f.done)}

    def _check_links(self, follow_up: FollowUp) -> None:
        """The contact person and the opportunity must be the customer's own."""
        errors = {}
        if follow_up.contact_id is not None and not self.db.row(
                "SELECT count(*) FROM contacts WHERE id = ? AND customer_id = ?",
                [int(follow_up.contact_id), int(follow_up.customer_id)])[0]:
            errors["contact_id"] = _("Choose a contact person of this customer.")
        if follow_up.opportunity_id is not None and not self.db.row(
                "SELECT count(*) FROM opportunities WHERE id = ? AND customer_id = ?",
                [int(follow_up.opportunity_id), int(follow_up.customer_id)])[0]:
            errors["opportunity_id"] = _("Choose an opportunity of this customer.")
        if errors:
            raise ValidationError(errors, what=_("Follow-up"))

    # -- the daily reminder ------------------------------------------------------------------------------------
    def follow_up_mail_recipients(self, day: dt.date | None = None) -> list[str]:
        """The active users with an e-mail address who have open follow-ups due by ``day`` (the firm's today),
        have not turned the daily reminder off on their profile and have not had it for that day — or a later one:
        the firm's time zone moved west after today's went out makes its today yesterday again, whose reminder
        would come as a second one the same morning."""
        day = day or self.firm_today()
        rows = self.db.rows(
            "SELECT DISTINCT f.owner FROM follow_ups f JOIN users u ON u.login = f.owner WHERE NOT f.done "
            "AND f.due_on <= ? AND u.active AND u.email <> '' AND NOT EXISTS (SELECT 1 FROM follow_up_mail_sent s "
            "WHERE s.login = f.owner AND s.sent_on >= ?) ORDER BY f.owner", [day, day])
        logins = [str(r[0]) for r in rows]
        return [login for login in logins if self.follow_up_mail_wanted(login)]

    def follow_up_mail_wanted(self, login: str) -> bool:
        """Whether a user wants the daily e-mail of their due and overdue follow-ups (their profile; on unless
        turned off)."""
        return self.prefs.prefs(login, "mail.follow_ups").get("mail.follow_ups", True) is not False

    def set_follow_up_mail_wanted(self, login: str, wanted: bool, user: str | None = None) -> None:
        """Turn a user's daily follow-up e-mail on or off (the user themselves, or an administrator)."""
        acting = self.admin.require(user, "read")
        if acting != login:
            self.admin.require(user, "admin")
        before = self.follow_up_mail_wanted(login)
        with self.db.transaction() as cur:  # the choice and its line in the admin log together
            self.prefs.set_pref(login, "mail.follow_ups", bool(wanted))
            if acting != login and before != bool(wanted):  # someone else's choice changed: the log says who
                self.admin.log_admin(cur, acting, "Users", f"{login}: follow-up e-mail", before, bool(wanted))

    def claim_follow_up_mail(self, login: str, day: dt.date) -> bool:
        """Take the right to send ``login`` the reminder of ``day``: True once per user and day (whichever server
        process or restart asks first), False after — and False for a day before one whose reminder went out (see
        :meth:`follow_up_mail_recipients`). The record survives restarts; see :meth:`release_follow_up_mail` when
        sending failed."""
        with self.db.transaction() as cur:
            if cur.execute("SELECT 1 FROM follow_up_mail_sent WHERE login = ? AND sent_on > ?",
                           [login, day]).fetchone():
                return False
            taken = cur.execute("INSERT INTO follow_up_mail_sent (login, sent_on, sent_at) VALUES (?, ?, ?) "
                                "ON CONFLICT DO NOTHING RETURNING login", [login, day, utcnow()]).fetchall()
        return bool(taken)

    def release_follow_up_mail(self, login: str, day: dt.date) -> None:
        """Give back a claim whose e-mail could not be sent (the next round tries again)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM follow_up_mail_sent WHERE login = ? AND sent_on = ?", [login, day])

    def follow_up_mail_days(self, login: str) -> list[dt.date]:
        """The days a user's reminder e-mail went out, newest first."""
        return [_day(r[0]) for r in self.db.rows(
            "SELECT sent_on FROM follow_up_mail_sent WHERE login = ? ORDER BY sent_on DESC", [login])]

    # -- what the home page remembers and reads ---------------------------------------------------------------
    def record_card_view(self, login: str, customer_id: int) -> None:
        """Remember that a user opened a customer's card (the newest :data:`RECENT_CARDS` are kept)."""
        now = utcnow()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM card_views WHERE login = ? AND customer_id = ?", [login, int(customer_id)])
            cur.execute("INSERT INTO card_views (login, customer_id, viewed_at) VALUES (?, ?, ?)",
                        [login, int(customer_id), now])
            old = [int(r[0]) for r in cur.execute(
                "SELECT customer_id FROM card_views WHERE login = ? ORDER BY viewed_at DESC, customer_id LIMIT 100 "
                "OFFSET ?", [login, RECENT_CARDS]).fetchall()]
            if old:
                cur.execute("DELETE FROM card_views WHERE login = ? AND " + self.db.in_list("customer_id", len(old)),
                            [login, *old])

    def recent_cards(self, login: str, limit: int = RECENT_CARDS) -> pd.DataFrame:
        """The cards a user opened last, newest first: customer_id, name, number, viewed_at."""
        return self.db.df(
            "SELECT v.customer_id, c.name, c.number, v.viewed_at FROM card_views v JOIN customers c "
            "ON c.id = v.customer_id WHERE v.login = ? ORDER BY v.viewed_at DESC, v.customer_id LIMIT ?",
            [login, counted(limit)])

    def home_seen(self, login: str) -> dt.datetime | None:
        """When a user last looked at the home page (UTC), None before the first time."""
        row = self.db.row("SELECT seen_at FROM home_seen WHERE login = ?", [login])
        return pd.Timestamp(row[0]).to_pydatetime() if row else None

    def mark_home_seen(self, login: str, at: dt.datetime | None = None) -> None:
        """Remember that a user looked at the home page now (or ``at``)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM home_seen WHERE login = ?", [login])
            cur.execute("INSERT INTO home_seen (login, seen_at) VALUES (?, ?)", [login, at or utcnow()])

    def changes_by_others(self, login: str, since: dt.datetime | None, account_manager: str | None = None,
                          limit: int = 20) -> pd.DataFrame:
        """Customers that others than ``login`` changed after ``since`` (their fields and their records: contacts,
        comments, events, opportunities, follow-ups …), of one ``account_manager``'s customers or all; newest first:
        customer_id, name, number, changes (saves: a save of three fields, a comment written, is one), last_at,
        last_by."""
        since = since or (utcnow() - dt.timedelta(days=7))
        mine = "AND c.account_manager = ? " if account_manager is not None else ""
        own = [account_manager] if account_manager is not None else []
        # a change is one save: its history rows (one per field) share the record and the moment
        sql = ("WITH touched AS (SELECT DISTINCT customer_id, changed_at, changed_by, 'customers' AS what, "
               "customer_id AS record_id FROM customer_changes WHERE changed_at > ? AND changed_by <> ? "
               "UNION SELECT DISTINCT customer_id, changed_at, changed_by, table_name AS what, record_id "
               "FROM record_changes WHERE changed_at > ? AND changed_by <> ? AND customer_id IS NOT NULL "
               # a relation made to (or removed from) the customer from another customer's card is its change too
               "UNION SELECT DISTINCT CAST(coalesce(new_value, old_value) AS BIGINT), changed_at, changed_by, "
               "table_name, record_id FROM record_changes WHERE table_name = 'relations' AND field = "
               "'other_customer_id' AND coalesce(new_value, old_value) SIMILAR TO '[0-9]{1,18}' "
               "AND changed_at > ? AND changed_by <> ?) "
               "SELECT t.customer_id, c.name, c.number, count(*) AS changes, max(t.changed_at) AS last_at, "
               "(array_agg(t.changed_by ORDER BY t.changed_at DESC))[1] AS last_by "  # the last writer's login
               "FROM touched t JOIN customers c ON c.id = t.customer_id "
               "WHERE NOT c.archived " + mine +
               "GROUP BY t.customer_id, c.name, c.number ORDER BY max(t.changed_at) DESC, t.customer_id LIMIT ?")
        return self.db.df(sql, [since, login, since, login, since, login, *own, counted(limit)])

    def open_pipeline_by_stage(self, account_manager: str | None = None) -> pd.DataFrame:
        """The open pipeline by stage, of one account manager's customers or all, as :meth:`pipeline` gives it
        (stage, count, amount, weighted, in the base currency, every active stage in order) but summed by the
        database: it reads the manager's opportunities only (the home page's figures)."""
        mine = "JOIN customers c ON c.id = o.customer_id AND c.account_manager = ? " if account_manager else ""
        rows = self.db.rows(
            "SELECT o.stage_id, o.currency, count(*), sum(o.amount), sum(o.amount * o.probability / 100) "
            "FROM opportunities o " + mine + "WHERE o.status = 'pipeline' GROUP BY o.stage_id, o.currency",
            [account_manager] if account_manager else [])
        rates = self.admin.settings().rates()
        stages = self.admin.list_values("opportunity_stages")
        by_id = dict(zip(stages["id"], stages["label"], strict=True))
        totals: dict[Any, list[float]] = {}
        for stage_id, currency, count, amount, weighted in rows:
            rate = float(rates.get(currency) or 1.0)
            total = totals.setdefault(by_id.get(stage_id), [0, 0.0, 0.0])
            total[0] += int(count)
            total[1] += float(amount or 0) * rate
            total[2] += float(weighted or 0) * rate
        for label in stages[stages["active"]]["label"]:
            totals.setdefault(label, [0, 0.0, 0.0])
        order = {label: i for i, label in enumerate(stages["label"])}
        ordered = sorted(totals, key=lambda label: order.get(label, len(order)))
        return pd.DataFrame({"stage": ordered, "count": [totals[k][0] for k in ordered],
                             "amount": [round(totals[k][1], 2) for k in ordered],
                             "weighted": [round(totals[k][2], 2) for k in ordered]},
                            columns=["stage", "count", "amount", "weighted"])

    def invoicing_behind(self, account_manager: str | None = None, today: dt.date | None = None,
                         limit: int = 20) -> pd.DataFrame:
        """Customers (of an account manager, or all) invoiced less this year up to ``today`` than last year up to
        the same date, the furthest behind first: customer_id, name, number, this_year, last_year, behind (all in
        the base currency)."""
        today = today or self.firm_today()
        start = dt.date(today.year, 1, 1)
        last_start = dt.date(today.year - 1, 1, 1)
        last_today = _same_day_last_year(today)
        mine = "AND c.account_manager = ? " if account_manager is not None else ""
        own = [account_manager] if account_manager is not None else []
        sql = ("WITH totals AS (SELECT i.customer_id, "
               "sum(CASE WHEN i.invoice_date >= ? THEN i.amount_base ELSE 0 END) AS this_year, "
               "sum(CASE WHEN i.invoice_date <= ? THEN i.amount_base ELSE 0 END) AS last_year "
               "FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE NOT c.archived " + mine +
               "AND i.invoice_date >= ? AND i.invoice_date <= ? AND (i.invoice_date >= ? OR i.invoice_date <= ?) "
               "GROUP BY i.customer_id) "
               "SELECT t.customer_id, c.name, c.number, CAST(t.this_year AS DOUBLE PRECISION) AS this_year, "
               "CAST(t.last_year AS DOUBLE PRECISION) AS last_year, "
               "CAST(t.last_year - t.this_year AS DOUBLE PRECISION) AS behind FROM totals t "
               "JOIN customers c ON c.id = t.customer_id WHERE t.last_year > 0 AND t.this_year < t.last_year "
               "ORDER BY t.last_year - t.this_year DESC, t.customer_id LIMIT ?")
        return self.db.df(sql, [start, last_today, *own, last_start, today, start, last_today, counted(limit)])


def _same_day_last_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _follow_up_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The frame of :meth:`FollowUpStore.follow_ups` (FOLLOW_UP_FRAME's columns) from its rows."""
    columns = {name: [row[name] for row in rows] for name in FOLLOW_UP_FRAME}
    for name in ("contact_id", "opportunity_id", "customer_number"):
        columns[name] = pd.array(columns[name], dtype="Int64")
    for name in ("done", "overdue"):
        columns[name] = np.array(columns[name], dtype=bool)
    return pd.DataFrame(columns, columns=FOLLOW_UP_FRAME)


@functools.cache
def _no_follow_ups() -> pd.DataFrame:
    """The frame of no follow-ups, made once (most customers have none; a copy of it is ten times cheaper)."""
    return _follow_up_frame([])


def _order_follow_ups(rows: list[dict[str, Any]]) -> None:
    """Sort follow-ups as the ORDER BY of :meth:`FollowUpStore.follow_ups` does: open ones first by due day, then done
    ones, newest done first (missing days last), then by id (stable sorts, the last key first)."""
    rows.sort(key=lambda row: row["id"])
    rows.sort(key=lambda row: (row["done_at"] is not None, row["done_at"] or dt.datetime.min), reverse=True)
    rows.sort(key=lambda row: (bool(row["done"]), bool(row["done"]) or row["due_on"] is None,
                               dt.date.min if row["done"] or row["due_on"] is None else _day(row["due_on"])))


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()
