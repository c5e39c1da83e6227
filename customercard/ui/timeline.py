"""A timeline drawn as light HTML — the customer's on the card (the Activity section), a contact person's on their
card: entries grouped by day, newest first, each saying who did what and linking to what it is about; filters by
kind, by person and by text; "Load more" fetches the next page after the last entry shown (the store's keyset).

Every user value is escaped; every text is said in the reader's language, times in the firm's time zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import formatting
from ..i18n import N_, _, ngettext
from ..models import Contact, Customer
from ..store.activity import TIMELINE_KINDS, merged_customer_id
from . import assets
from .html import esc, isolated, link
from .values import shown

#: Entries fetched per page.
PAGE = 50
#: At most this many changed fields are listed under one save (the rest counted).
CHANGES_SHOWN = 8
#: The columns of a timeline entry that hold what people typed.
USER_TEXTS = ("title", "detail", "old_value", "new_value")
#: What each kind of entry is called on its badge.
KIND_BADGES = {"comment": N_("Comment"), "email": N_("E-mail"), "event": N_("Event"), "opportunity": N_("Opportunity"),
               "file": N_("File"), "contact": N_("Contact person"), "relation": N_("Relation"), "merge": N_("Merge"),
               "change": N_("Change"), "follow-up": N_("Follow-up")}
#: Actions the timeline's HTML sends (the section or card passes them to :meth:`TimelineView.handle`).
TIMELINE_ACTIONS = ("activity-kind", "activity-person", "activity-text", "activity-more", "activity-clear")

TIMELINE_CSS = assets.text("timeline.css")


class EntryText:
    """How one timeline's entries read: the store (names, relations), the firm's time zone, and whose timeline it
    is (a customer's, or a contact person's at that customer) for the links."""

    def __init__(self, store: Any, zone: str, customer_id: int, contact_id: int | None = None) -> None:
        self.store, self.zone, self.customer_id, self.contact_id = store, zone, customer_id, contact_id
        self._relations: dict[int, Any] | None = None
        self._files: set[int] | None = None

    def forget(self) -> None:
        """What was read for the links (relations, the files still there) is read again when next needed."""
        self._relations = self._files = None

    def file_there(self, file_id: int) -> bool:
        """Whether the customer's file is still there to download (a deleted one's link answered 404)."""
        if self._files is None:
            try:
                self._files = {int(i) for i in self.store.files(self.customer_id)["id"]}
            except Exception:  # documents switched off, a store without files: no link, the entry still reads
                self._files = set()
        return int(file_id) in self._files

    def who(self, login: Any) -> str:
        return isolated(self.store.user_name(login)) if login else _("someone")

    def relations(self) -> dict[int, Any]:
        """Relations of this customer (or to this person) by id: as seen from here, with the other side."""
        if self._relations is None:
            try:
                frame = (self.store.contact_relations(self.contact_id) if self.contact_id is not None
                         else self.store.relations(self.customer_id))
                self._relations = {int(r.id): r for r in frame.itertuples(index=False)}
            except Exception:  # an entry without its relation still reads
                self._relations = {}
        return self._relations

    # -- one entry ------------------------------------------------------------------------------------------
    def html(self, row: Any) -> str:
        """One entry: time, badge, sentence, what it quotes or changed, and a link to what it is about."""
        badge = f'<span class="cc-badge cc-kind-{esc(row.kind)}">{esc(_(KIND_BADGES.get(row.kind, row.kind)))}</span>'
        when = f'<span class="cc-when">{esc(formatting.time_of_day(row.at, self.zone))}</span>'
        # a person's texts (a title with a right-to-left override) stay inside their own part of the sentence
        row = row._replace(**{name: isolated(getattr(row, name)) for name in USER_TEXTS if hasattr(row, name)})
        sentence, extra, target = self._describe(row)
        return (f'<li class="cc-entry cc-entry-{esc(row.kind)}" data-kind="{esc(row.kind)}">{when}{badge} '
                f'<span class="cc-entry-text">{sentence}</span>{" " + target if target else ""}{extra}</li>')

    def _describe(self, row: Any) -> tuple[str, str, str]:
        """(the sentence, what follows it, the link) of an entry; every value escaped here."""
        describe = getattr(self, f"_{str(row.kind).replace('-', '_')}", None)
        if describe is None:
            return esc(row.title), "", ""
        return describe(row)

    def _open(self, table: str, record_id: int, label: str) -> str:
        return (f'<button class="cc-link cc-entry-open" data-action="activity-open" data-id="{esc(table)}:'
                f'{int(record_id)}">{esc(label)}</button>')

    def _quote(self, text: Any) -> str:
        return f'<div class="cc-quote">{esc(text)}</div>' if text else ""

    def _comment(self, row: Any) -> tuple[str, str, str]:
        if row.action == "edited":  # rewritten: by whom, and what it said then
            author = str(row.detail or "")
            text = (_("{who} edited a comment by {author}:").format(who=self.who(row.who), author=self.who(author))
                    if author and author != row.who else _("{who} edited a comment:").format(who=self.who(row.who)))
            return esc(text), self._quote(row.new_value or ""), self._open("comments", row.ref_id, _("Show"))
        if row.action == "removed":  # taken away by the undo of the bulk change that added it: what it said
            author = str(row.detail or "")
            text = (_("{who} took away a comment by {author} (undoing a bulk change):").format(
                who=self.who(row.who), author=self.who(author)) if author and author != row.who
                else _("{who} took away a comment (undoing a bulk change):").format(who=self.who(row.who)))
            return esc(text), self._quote(row.old_value or ""), ""
        written = ""
        day = _as_day(row.detail)
        if day is not None and day != formatting.local_time(row.at, self.zone).date():
            written = " " + esc(_("(dated {day})").format(day=formatting.date(day)))
        gone = row.new_value == "removed"  # taken away since: nothing to open
        return (esc(_("{who} wrote:").format(who=self.who(row.who))) + written, self._quote(row.title),
                "" if gone else self._open("comments", row.ref_id, _("Show")))

    def _email(self, row: Any) -> tuple[str, str, str]:
        people = _people(self.store, row.people)
        text = (_("{who} sent an e-mail to {recipients}:").format(who=self.who(row.who), recipients=people)
                if people else _("{who} sent an e-mail:").format(who=self.who(row.who)))
        return esc(text), self._quote(row.title), self._open("comments", row.ref_id, _("Show"))

    def _event(self, row: Any) -> tuple[str, str, str]:
        target = self._open("events", row.ref_id, _("Details")) if self.contact_id is None else ""
        if row.action == "marked":  # its status changed: by whom and when
            text = {"done": _("{who} marked the event “{title}” done"),
                    "cancelled": _("{who} cancelled the event “{title}”")}.get(
                row.new_value or "", _("{who} put the event “{title}” back to planned"))
            return esc(text.format(who=self.who(row.who), title=row.title)), "", target
        kind = f" ({row.detail})" if row.detail else ""
        text = _("Event “{title}”{type} with {who}: {status}").format(title=row.title, type=kind,
                                                                    who=self.who(row.who), status=_(row.action))
        return esc(text), "", target

    def _follow_up(self, row: Any) -> tuple[str, str, str]:
        day = _as_day(row.detail)
        due = formatting.date(day) if day is not None else ""
        if row.action == "done":
            text = _("{who} marked a follow-up done:").format(who=self.who(row.who))
        elif row.action == "reopened":
            text = _("{who} opened a follow-up again:").format(who=self.who(row.who))
        elif row.action == "reassigned":
            text = _("{who} gave a follow-up to {owner}:").format(who=self.who(row.who),
                                                                  owner=self.who(str(row.new_value or "")))
        elif row.action == "rewritten":  # quoted as it said since, what it said before under it
            text = _("{who} rewrote a follow-up:").format(who=self.who(row.who))
            before = esc(_("Before: {text}").format(text=row.old_value or "—"))
            return esc(text), self._quote(row.title) + f'<div class="cc-meta">{before}</div>', ""
        elif row.action == "moved":
            days = [_as_day(value) for value in (row.old_value, row.new_value)]
            old, new = (formatting.date(day) if day is not None else "—" for day in days)
            text = _("{who} moved a follow-up from {old} to {new}:").format(who=self.who(row.who), old=old, new=new)
        else:
            owner = _people(self.store, row.people)
            text = _("{who} added a follow-up for {owner}, due {day}:").format(who=self.who(row.who), owner=owner,
                                                                               day=due)
        return esc(text), self._quote(row.title), ""

    def _opportunity(self, row: Any) -> tuple[str, str, str]:
        who, title = self.who(row.who), row.title
        if row.action == "created":
            amount, _sep, currency = (row.detail or "").partition(" ")
            try:
                value = formatting.money(float(amount), currency)
            except ValueError:
                value = row.detail or ""
            text = _("{who} added the opportunity “{title}” ({amount})").format(who=who, title=title, amount=value)
        elif row.action == "stage":
            text = _("{who} moved “{title}” from {old} to {new}").format(who=who, title=title,
                                                                         old=row.old_value or "—",
                                                                         new=row.new_value or "—")
        elif row.action == "won":
            text = _("{who} marked “{title}” as won").format(who=who, title=title)
        elif row.action == "lost":
            text = (_("{who} marked “{title}” as lost: {reason}").format(who=who, title=title, reason=row.detail)
                    if row.detail else _("{who} marked “{title}” as lost").format(who=who, title=title))
        else:
            text = _("{who} put “{title}” back in the pipeline").format(who=who, title=title)
        return esc(text), "", self._open("opportunities", row.ref_id, _("Show"))

    def _file(self, row: Any) -> tuple[str, str, str]:
        who = self.who(row.who)
        if row.action == "deleted":
            return esc(_("{who} deleted the file {name}").format(who=who, name=row.title)), "", ""
        return (esc(_("{who} added the file {name}").format(who=who, name=row.title)), "",
                link(f"/files/{int(row.ref_id)}", _("Download")) if self.file_there(row.ref_id) else "")

    def _contact(self, row: Any) -> tuple[str, str, str]:
        who, name = self.who(row.who), row.title
        text = {"added": _("{who} added the contact person {name}"),
                "deactivated": _("{who} made {name} inactive"),
                "reactivated": _("{who} made {name} active again")}.get(row.action, "{who} {name}")
        target = link(f"/contact?contact={int(row.ref_id)}", _("Contact card")) if self.contact_id is None else ""
        return esc(text.format(who=who, name=name)), "", target

    def _relation(self, row: Any) -> tuple[str, str, str]:
        found = self.relations().get(int(row.ref_id))
        label, other, target = row.title, "", ""
        if found is not None:
            label, other = found.label, found.other_name or ""
            href = (f"/contact?contact={int(found.other_id)}" if found.other_kind == "contact"
                    else f"/card?customer={int(found.other_id)}")
            target = link(href, _("Open"))
        elif self.contact_id is None:  # removed since: as its history keeps it, said from this customer's side
            label, other, target = self._gone_relation(row)
        if row.action == "removed":
            text = _("{who} removed a relation: {label} {other}")
        else:
            text = _("{who} added a relation: {label} {other}")
        return esc(text.format(who=self.who(row.who), label=label, other=other).strip()), "", target

    def _gone_relation(self, row: Any) -> tuple[str, str, str]:
        """A removed relation's type, the other side's name and a link to it, as seen from this customer: its own
        relation by its type, one made to it by the type's other side (Subsidiary of …) and who made it."""
        maker, _kind, other_id = str(row.old_value or ""), *str(row.new_value or ":").split(":", 1)
        label = row.title
        try:
            if maker and maker != str(self.customer_id):  # made by the other customer, to this one
                types = self.store.list_values("relation_types")
                inverse = types[types["label"] == row.title]["inverse_label"]
                label = str(inverse.iloc[0]) if len(inverse) and str(inverse.iloc[0] or "") else row.title
                named = self.store.customer_names([int(maker)])
                customer_id = int(maker)
            elif _kind == "customer" and other_id.isdigit():
                named = self.store.customer_names([int(other_id)])
                customer_id = int(other_id)
            else:  # to a contact person: the type is what there is to say
                return label, "", ""
        except Exception:  # a history that cannot be read further still reads as its type
            return label, "", ""
        if customer_id not in named:
            return label, "", ""
        return label, named[customer_id][0], link(f"/card?customer={customer_id}", _("Open"))

    def _merge(self, row: Any) -> tuple[str, str, str]:
        changes = row.changes or []
        merged_from = next((new for field, _old, new in changes if field == "merged_from"), None)
        merged_into = next((new for field, _old, new in changes if field == "merged_into"), None)
        other = merged_from or merged_into
        name = shown(Customer, "merged_from", other) if other else _("another customer")
        if merged_into:
            text = _("{who} merged this customer into {other}").format(who=self.who(row.who), other=name)
        else:
            text = _("{who} merged {other} into this customer").format(who=self.who(row.who), other=name)
        other_id = merged_customer_id(other)
        target = link(f"/card?customer={other_id}", _("Open")) if other_id else ""
        rest = [c for c in changes if c[0] not in Customer.HISTORY_ONLY and c[0] != "archived"]
        return esc(text), self._changes(rest, Customer), target

    def _change(self, row: Any) -> tuple[str, str, str]:
        record = Contact if row.ref_table == "contacts" else Customer
        changes = row.changes or []
        fields = ", ".join(dict.fromkeys(_label(record, field) for field, _old, _new in changes))
        who = self.who(row.who)
        if row.action == "create":
            text = _("{who} created the customer").format(who=who)
            return esc(text), "", self._as_of_link(row)
        text = (_("{who} restored {fields}") if row.action == "restore" else _("{who} changed {fields}")).format(
            who=who, fields=fields or row.title)
        return esc(text), self._changes(changes, record), self._as_of_link(row) if record is Customer else ""

    def _as_of_link(self, row: Any) -> str:
        day = formatting.local_time(row.at, self.zone).date()
        return link(f"/card?customer={int(self.customer_id)}&as_of={day.isoformat()}", _("The card that day"),
                    css="cc-asof-link")

    def _changes(self, changes: list[tuple[str, Any, Any]], record: type) -> str:
        """What a save changed: 'Label: old → new' a line."""
        if not changes:
            return ""
        lines = []
        for field, old, new in changes[:CHANGES_SHOWN]:
            before = shown(record, field, old, self.store.user_name, self.zone) or _("(empty)")
            after = shown(record, field, new, self.store.user_name, self.zone) or _("(empty)")
            lines.append(f"<li>{esc(_label(record, field))}: {esc(isolated(before))} → {esc(isolated(after))}</li>")
        if len(changes) > CHANGES_SHOWN:
            lines.append(f"<li>{esc(_('and {n} more').format(n=len(changes) - CHANGES_SHOWN))}</li>")
        return f'<ul class="cc-changes">{"".join(lines)}</ul>'


def _label(record: type, field: str) -> str:
    """A field's label in the reader's language (a segmentation criterion by its name)."""
    if field.startswith("segments."):
        return field.split(".", 1)[1]
    if record is Customer:
        try:
            return _blank_customer().label(field)
        except (AttributeError, KeyError):
            return field
    return _(record.param[field].label) if field in record.param and record.param[field].label else field


@functools.cache
def _blank_customer() -> Customer:
    """A customer to ask fields' labels of (made once)."""
    return Customer()


def _as_day(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def _people(store: Any, text: Any) -> str:
    """Logins kept as JSON (an e-mail's recipients) as names."""
    try:
        logins = json.loads(text) if text else []
    except (TypeError, ValueError):
        return ""
    return ", ".join(store.user_name(login) for login in logins) if isinstance(logins, list) else ""


class TimelineView:
    """The state of a timeline on a page — its filters and the entries loaded so far — and its HTML.

    ``fetch(before=…, limit=…, kinds=…, person=…, text=…)`` is the store's timeline for this customer or person.
    """

    def __init__(self, fetch: Callable[..., pd.DataFrame], text: EntryText, kinds: dict[str, str] | None = None,
                 people: dict[str, str] | None = None) -> None:
        self.fetch, self.text = fetch, text
        self.kinds = kinds if kinds is not None else dict(TIMELINE_KINDS)
        self.people = people or {}
        self.kind = self.person = self.search = ""
        self.frame: pd.DataFrame | None = None
        self.has_more = False

    def _filters(self) -> dict[str, Any]:
        return {"kinds": [self.kind] if self.kind else None, "person": self.person or None,
                "text": self.search or None}

    def load(self) -> None:
        """The newest entries again (after a filter changed or something new happened): as many as were shown."""
        shown_before = 0 if self.frame is None else len(self.frame)
        count = max(PAGE, shown_before)
        self.text.forget()
        self.frame = self.fetch(limit=count, **self._filters())
        self.has_more = len(self.frame) == count

    def load_more(self) -> None:
        """The next page, after the last entry shown."""
        if self.frame is None or self.frame.empty:
            self.load()
            return
        page = self.fetch(before=self.frame["cursor"].iloc[-1], limit=PAGE, **self._filters())
        self.frame = pd.concat([self.frame, page], ignore_index=True) if not page.empty else self.frame
        self.has_more = len(page) == PAGE

    def handle(self, action: str, data: dict[str, Any]) -> bool:
        """Apply a filter or load more; True when the timeline changed (draw it again)."""
        value = str(data.get("value") or "").strip()
        if action == "activity-kind":
            self.kind = value if value in self.kinds else ""
        elif action == "activity-person":
            self.person = value if value in self.people else ""
        elif action == "activity-text":
            self.search = value[:200]
        elif action == "activity-clear":
            self.kind = self.person = self.search = ""
        elif action == "activity-more":
            self.load_more()
            return True
        else:
            return False
        self.load()
        return True

    def filters_html(self) -> str:
        kinds = "".join(f'<option value="{esc(k)}"{" selected" if k == self.kind else ""}>{esc(_(v))}</option>'
                        for k, v in self.kinds.items())
        people = "".join(f'<option value="{esc(k)}"{" selected" if k == self.person else ""}>{esc(v)}</option>'
                         for k, v in self.people.items())
        clear = ""
        if self.kind or self.person or self.search:
            clear = (f'<button class="cc-link cc-activity-clear" data-action="activity-clear">'
                     f'{esc(_("Show everything"))}</button>')
        return (f'<div class="cc-activity-filters">'
                f'<label>{esc(_("Show"))} <select class="cc-activity-kind" data-action="activity-kind">'
                f'<option value="">{esc(_("Everything"))}</option>{kinds}</select></label>'
                f'<label>{esc(_("By"))} <select class="cc-activity-person" data-action="activity-person">'
                f'<option value="">{esc(_("Anyone"))}</option>{people}</select></label>'
                f'<label>{esc(_("Containing"))} <input type="search" class="cc-activity-text" '
                f'data-action="activity-text" maxlength="200" value="{esc(self.search)}" '
                f'placeholder="{esc(_("Text to look for"))}"></label>{clear}</div>')

    def entries_html(self) -> str:
        """The entries loaded, grouped by day (in the firm's time zone), and "Load more" while there are more."""
        if self.frame is None:
            self.load()
        assert self.frame is not None
        if self.frame.empty:
            said = (_("Nothing matches these filters.") if self.kind or self.person or self.search
                    else _("Nothing has happened yet."))
            return f'<p class="cc-empty cc-activity-empty">{esc(said)}</p>'
        zone = self.text.zone
        today = formatting.local_time(dt.datetime.now(dt.UTC), zone).date()
        days: dict[dt.date, list[str]] = {}
        for row in self.frame.itertuples(index=False):
            day = formatting.local_time(row.at, zone).date()
            days.setdefault(day, []).append(self.text.html(row))
        parts = []
        for day, entries in days.items():
            name = formatting.date(day)
            if day == today:
                name = _("Today, {day}").format(day=name)
            elif day == today - dt.timedelta(days=1):
                name = _("Yesterday, {day}").format(day=name)
            parts.append(f'<li class="cc-day" data-day="{day.isoformat()}"><div class="cc-day-head">{esc(name)}</div>'
                         f'<ul class="cc-list">{"".join(entries)}</ul></li>')
        more = ""
        if self.has_more:
            more = (f'<p><button class="cc-act cc-activity-more" data-action="activity-more">'
                    f'{esc(_("Load more"))}</button></p>')
        shown_count = ngettext("{n} entry shown", "{n} entries shown", len(self.frame)).format(n=len(self.frame))
        count = f'<p class="cc-meta cc-activity-count">{esc(shown_count)}</p>'
        return f'<ol class="cc-list cc-activity-days">{"".join(parts)}</ol>{count}{more}'

    def html(self) -> str:
        return f"<style>{TIMELINE_CSS}</style>{self.filters_html()}{self.entries_html()}"
