"""Merge another customer into the one on the card: pick it, compare side by side, choose per field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from ..errors import ConflictError, CustomerCardError
from ..i18n import _, ngettext
from ..models import Customer
from .accessibility import BUTTON_CSS
from .context import CardContext
from .editor import customer_label, refusal
from .html import SECTION_CSS, esc
from .sections.base import note_html
from .values import shown


def moved(kind: str, count: int) -> str:
    """How many records of a kind a merge moves, in the reader's language ('3 contact persons')."""
    texts = {
        "contacts": lambda n: ngettext("{n} contact person", "{n} contact persons", n),
        "projects": lambda n: ngettext("{n} project", "{n} projects", n),
        "invoices": lambda n: ngettext("{n} invoice", "{n} invoices", n),
        "comments": lambda n: ngettext("{n} comment", "{n} comments", n),
        "events": lambda n: ngettext("{n} event", "{n} events", n),
        "opportunities": lambda n: ngettext("{n} opportunity", "{n} opportunities", n),
        "relations": lambda n: ngettext("{n} relation", "{n} relations", n),
        "files": lambda n: ngettext("{n} file", "{n} files", n),
        "follow_ups": lambda n: ngettext("{n} follow-up", "{n} follow-ups", n),
    }
    return (texts[kind](count) if kind in texts else f"{{n}} {kind}").format(n=count)


class MergePanel(pn.viewable.Viewer):
    """The merge form shown in the card's header section (managers and administrators)."""

    def __init__(self, context: CardContext, done: Callable[[str, bool], None], **params: Any) -> None:
        super().__init__(**params)
        self.context = context
        self.done = done
        self.other_id: int | None = None
        self.other_version: int | None = None
        self.survivor_version: int | None = None  # both as the comparison showed them: a merge writes only on those
        self.choices: dict[str, pn.widgets.RadioButtonGroup] = {}
        self._find = pn.widgets.TextInput(label=_("Find the customer to merge into this one"),
                                          placeholder=_("Name, number, organisation number…"),
                                          css_classes=["cc-merge-find"], sizing_mode="stretch_width")
        self._pick = pn.widgets.Select(label=_("Customer"), options={}, css_classes=["cc-merge-pick"],
                                       sizing_mode="stretch_width")
        self._find.param.watch(lambda e: self._lookup(e.new), "value_input")
        self._pick.param.watch(lambda e: self.choose(e.new), "value")
        self._compare = pn.Column(sizing_mode="stretch_width", margin=0)
        self._note = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-merge-note"], visible=False)
        self._merge = pn.widgets.Button(label=_("Merge into this customer"), color="danger", disabled=True,
                                        stylesheets=[BUTTON_CSS],
                                        css_classes=["cc-merge-go", "cc-merge-confirm"])  # (never by Enter)
        cancel = pn.widgets.Button(label=_("Cancel"), css_classes=["cc-merge-cancel"])
        self._merge.on_click(lambda _e: self.merge())
        cancel.on_click(lambda _e: self.done("", True))
        self._layout = pn.Column(pn.pane.HTML(f"<b>{esc(_('Merge a duplicate into this customer'))}</b>",
                                              margin=(0, 10)), self._find, self._pick, self._note,
                                 self._compare, pn.Row(self._merge, cancel), sizing_mode="stretch_width",
                                 css_classes=["cc-merge"])

    def _lookup(self, text: str) -> None:
        me = self.context.customer.id
        hits = self.context.store.search(text or "", limit=15, include_archived=False) if text else None
        options = {"": None}
        if hits is not None:
            for hit in hits.itertuples(index=False):
                if int(hit.id) != me:
                    options[f"{hit.name} ({hit.number}{', ' + hit.city if hit.city else ''})"] = int(hit.id)
        self._pick.options = options
        found = list(options.values())[1:]
        if len(found) == 1:  # one customer found: it is chosen
            self._pick.value = found[0]

    def choose(self, other_id: int | None) -> None:
        """Show this customer and the other side by side, with a choice for each field that differs."""
        self.other_id = other_id
        self.choices = {}
        self._note.visible = False
        self._merge.disabled = other_id is None
        if other_id is None:
            self._compare.objects = []
            return
        preview = self.context.store.merge_preview(self.context.customer.id, other_id)
        mine, theirs = preview["survivor"], preview["other"]
        self.other_version, self.survivor_version = theirs.version, mine.version
        rows: list[Any] = [pn.pane.HTML(
            f'<table class="cc-table"><tr><td></td><th>{esc(_("This card"))}: {esc(mine.name)}</th>'
            f'<th>{esc(_("Other"))}: {esc(theirs.name)} ({esc(theirs.number)})</th></tr></table>',
            stylesheets=[SECTION_CSS], sizing_mode="stretch_width")]
        for field in preview["differing"]:
            group = pn.widgets.RadioButtonGroup(
                options={f"{_('Keep')}: {self._shown(field, mine.get(field)) or '—'}": "mine",
                         f"{_('Take')}: {self._shown(field, theirs.get(field))}": "other"},
                value="mine", css_classes=[f"cc-merge-field-{field.replace('.', '-')}"])
            self.choices[field] = group
            rows.append(pn.Row(pn.pane.HTML(esc(mine.label(field)), width=220), group,
                               sizing_mode="stretch_width"))
        moves = ", ".join(moved(kind, count) for kind, count in preview["moves"].items() if count)
        rows.append(pn.pane.HTML(
            f'<p class="cc-merge-moves">{esc(_("Moves to this customer:"))} {esc(moves or _("nothing else"))}. '
            f'{esc(_("The other customer is archived and points here; nothing is deleted."))}</p>',
            sizing_mode="stretch_width"))
        self._compare.objects = rows

    def _shown(self, field: str, value: Any) -> str:
        return shown(Customer, field, value, self.context.store.user_name, self.context.zone)

    def merge(self) -> bool:
        if self.other_id is None:
            return False
        taken = [field for field, group in self.choices.items() if group.value == "other"]
        context = self.context
        try:
            context.store.merge_customers(context.customer.id, self.other_id, take_from_other=taken,
                                          user=context.login, survivor_version=self.survivor_version,
                                          other_version=self.other_version)
        except ConflictError as exc:  # one of the two was saved since the comparison was drawn: drawn again
            self._changed_meanwhile(exc)
            return False
        except CustomerCardError as exc:
            self.done(refusal(exc, lambda field: customer_label(context.customer, field)), False)
            return False
        other = context.store.get_customer(self.other_id)
        context.reload()
        self.done(_("Merged {name} ({number}) into this customer.").format(name=other.name, number=other.number),
                  True)
        return True

    def _changed_meanwhile(self, exc: ConflictError) -> None:
        """Say who saved meanwhile and show the comparison again with the values stored now: nothing was merged,
        and the choices are made again on what is shown."""
        who = next((c.changed_by for c in exc.conflicts if c.changed_by), None)
        name = self.context.store.user_name(who) if who else _("Someone")
        self.choose(self.other_id)
        self._note.object = note_html(_("{name} saved one of the two customers while you compared them: nothing "
                                        "was merged. The comparison now shows the values stored; choose again and "
                                        "merge.").format(name=name), ok=False)
        self._note.visible = True

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
