"""The banner of a card shown as it was on a past day (``/card?customer=42&as_of=2024-06-30``): read only, with
another day to choose, "Compare with today" listing what changed field by field, and — for managers and
administrators — "Restore these values" bringing the chosen ones back as one new recorded change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ... import formatting
from ...errors import ConflictError, CustomerCardError
from ...i18n import N_, _, ngettext
from ...models import Customer
from ..editor import customer_label, refusal
from ..html import esc, link, table
from ..values import shown
from .activity import as_of_form
from .base import Section, action_button

BANNER_CSS = ("background:#fff4ce;border:1px solid #d9a400;border-radius:6px;padding:10px 14px;margin:0 0 6px;"
              "color:#3d2e00")


class AsOfSection(Section):
    """On a card as of a day only; always open (not remembered), first on the card."""

    key = "asof"
    title = N_("As it was")
    remembered = False
    listens_to = frozenset({"customer"})
    actions = ("asof-compare", "asof-pick", "asof-restore", "asof-all")

    @classmethod
    def shown(cls, context) -> bool:
        return context.as_of is not None

    def __init__(self, **params: Any) -> None:
        self._diff: pd.DataFrame | None = None
        self._today_version: int | None = None
        self._picked: set[str] = set()
        super().__init__(**params)
        self.view.title = _("As it was on {day}").format(day=formatting.date(self.context.as_of))

    @property
    def base(self) -> Any:
        """The store as of today (the card's store answers as the chosen day)."""
        return self.context.store.base

    @property
    def can_restore(self) -> bool:
        return self.base.can(self.context.login, "write")

    @property
    def picked(self) -> frozenset[str]:
        """The fields ticked to be brought back (only fields that differ between the day and today)."""
        return frozenset(self._picked)

    @property
    def compared_version(self) -> int | None:
        """The version of today's customer the comparison was made with (None before :meth:`compare`); a restore
        is written on this version only."""
        return self._today_version

    def _on_toggle(self, event: Any) -> None:  # not remembered: the next card as of a day shows its banner again
        self.collapsed = event.new
        if not event.new and not self._built:
            self._build()

    def markup(self) -> str:
        context = self.context
        day = formatting.date(context.as_of)
        today = f"/card?customer={int(context.customer.id)}"
        banner = (f'<div class="cc-asof-banner" role="status" style="{BANNER_CSS}"><strong>'
                  f'{esc(_("The card as it was at the end of {day} — read only.").format(day=day))}</strong> '
                  f'{esc(_("Nothing can be changed here."))} {link(today, _("Back to today’s card"), "cc-asof-today")}'
                  "</div>")
        compare = action_button("asof-compare", _("Compare with today"), css="cc-asof-compare")
        picker = as_of_form(context.customer.id, context.as_of, context.store.firm_today())
        return banner + picker + f"<p>{compare}</p>" + self.diff_html()

    def diff_html(self) -> str:
        """The fields that differ between that day and today; checkboxes and the restore button for writers."""
        if self._diff is None:
            return ""
        if self._diff.empty:
            return f'<p class="cc-empty cc-asof-same">{esc(_("Nothing differs: the card is the same today."))}</p>'
        context = self.context
        writer = self.can_restore
        names, zone = context.store.user_name, context.zone
        rows = []
        for row in self._diff.itertuples(index=False):
            cells = [esc(row.label), esc(shown(Customer, row.field, row.value_a, names, zone) or _("(empty)")),
                     esc(shown(Customer, row.field, row.value_b, names, zone) or _("(empty)")),
                     esc(_("{who}, {when}").format(who=names(row.changed_by), when=formatting.datetime(
                         row.changed_at, zone)) if isinstance(row.changed_by, str) else "")]
            if writer:
                restorable = row.field not in ("erp_system", "erp_customer_id")
                checked = " checked" if row.field in self._picked else ""
                label = esc(_("Bring back {field}").format(field=row.label))
                cells.append(f'<input type="checkbox" class="cc-asof-pick" data-action="asof-pick" '
                             f'data-id="{esc(row.field)}" aria-label="{label}"{checked}>' if restorable else "")
            rows.append(cells)
        headers = [(_("Field"), False), (_("On {day}").format(day=formatting.date(context.as_of)), False),
                   (_("Today"), False), (_("Last changed"), False)] + ([(_("Bring back"), False)] if writer else [])
        html = table(headers, rows, css_id="cc-asof-diff")
        if writer:
            html += ("<p>" + action_button("asof-all", _("Choose all"), css="cc-asof-all") + " "
                     + action_button("asof-restore", _("Restore these values"), primary=True, css="cc-asof-restore",
                                     version=self._today_version) + "</p>")
        return html

    def do_asof_compare(self, _data: dict[str, Any] | None = None) -> None:
        self.compare()

    def compare(self) -> pd.DataFrame:
        """What differs between the day shown and today (also shown in the section)."""
        base, customer_id = self.base, self.context.customer.id
        self._today_version = base.get_customer(customer_id).version
        self._diff = base.diff(customer_id, self.context.as_of)
        self._picked &= set(self._diff["field"])
        self._note = ("", True)
        self.render()
        return self._diff

    def changed_underneath(self, stored: Customer, by: str) -> None:  # noqa: ARG002 - the card shows that day's
        """Someone saved the customer while this card as of a day is open: a comparison shown is made again — its
        Today column, and the version a restore is written on, are today's — the values ticked kept where they
        still differ (the card itself stays as it was that day)."""
        if self._diff is None or self.__dict__.get("_restoring") or \
                self.base.get_customer(self.context.customer.id).version == self._today_version:
            return  # nothing compared yet, or the save is one the comparison shows already (this banner's restore)
        shown = dict(zip(self._diff["field"], self._diff["value_b"], strict=True))
        self.compare()
        today = dict(zip(self._diff["field"], self._diff["value_b"], strict=True))
        # a value ticked that they changed is unticked: bringing it back now would write over their change unseen
        self._picked = {field for field in self._picked if _same(shown.get(field), today.get(field))}
        self.say(_("{name} saved this customer meanwhile: the comparison shows today’s values now.").format(
            name=self.context.store.user_name(by)), focus=False)  # (someone else's doing: the focus stays)

    def do_asof_pick(self, data: dict[str, Any]) -> None:
        field = str(data.get("id") or "")
        if self._diff is None or field not in set(self._diff["field"]):
            return
        if data.get("value"):
            self._picked.add(field)
        else:
            self._picked.discard(field)

    def do_asof_all(self, _data: dict[str, Any] | None = None) -> None:
        if self._diff is not None:
            self._picked = {f for f in self._diff["field"] if f not in ("erp_system", "erp_customer_id")}
            self.render()

    def do_asof_restore(self, data: dict[str, Any]) -> None:
        try:
            seen = int(data.get("version")) if data.get("version") is not None else self._today_version
        except (TypeError, ValueError):
            seen = self._today_version
        self.restore(sorted(self._picked), seen)

    def restore(self, fields: list[str], version: int | None = None) -> bool:
        """Bring back ``fields`` as they were on the day shown, as one new recorded change made on ``version``
        (today's as compared); someone saved since: nothing is written and the comparison is made again."""
        if not fields:
            self.say(_("Choose the values to bring back first."), ok=False)
            return False
        context = self.context
        self._restoring = True  # (its own change, heard meanwhile, is no colleague's)
        try:
            saved = self.base.restore_as_of(context.customer.id, context.as_of, fields, user=context.login,
                                            expected_version=version if version is not None else self._today_version)
        except ConflictError:
            self.compare()
            self.say(_("Someone saved this customer since you compared; the comparison is made again. Restore again "
                       "if you still want to."), ok=False)
            return False
        except CustomerCardError as exc:  # each field's message after its label
            self.say(refusal(exc, lambda field: customer_label(self.context.customer, field)), ok=False)
            return False
        finally:
            self._restoring = False
        self._picked = set()
        self._today_version = saved.version
        self._diff = self.base.diff(context.customer.id, context.as_of)
        self.say(ngettext("Brought back {n} value as one new change; today’s card shows it.",
                          "Brought back {n} values as one new change; today’s card shows them.",
                          len(fields)).format(n=len(fields)))
        return True


def _same(a: Any, b: Any) -> bool:
    """Two values of a comparison alike (missing ones alike too)."""
    def missing(value: Any) -> bool:
        return value is None or value is pd.NA or (isinstance(value, float) and value != value)  # noqa: PLR0124

    return (missing(a) and missing(b)) or (not missing(a) and not missing(b) and a == b)


def parse_day(text: str | None, today: dt.date | None = None) -> dt.date | None:
    """A day from the URL ('2024-06-30'), not after ``today`` (the firm's: :meth:`Store.firm_today`; the server's
    clock may be on another day); None for anything else."""
    try:
        day = dt.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None
    return day if day <= (today or dt.date.today()) else None
