"""Section 5 — groups and log: segmentation values, who created and updated the customer, the economy-system
link, and the field-level history where a past value can be restored (as a new, recorded change)."""

from __future__ import annotations

import json
from typing import Any

import panel as pn
import param

from ... import formatting
from ...errors import ConflictError, CustomerCardError
from ...i18n import _
from ...models import Customer
from ..components import DataTable
from ..html import esc, fields
from .base import Section, html_pane

HISTORY_PAGE = 50
ALL_FIELDS = "__all__"


class SegmentsForm(pn.viewable.Viewer):
    """One widget per segmentation criterion: a multi-choice or a single choice, from the admin's values."""

    def __init__(self, customer: Customer, criteria: dict[str, tuple[bool, list[str]]], **params: Any) -> None:
        super().__init__(**params)
        self.widgets: dict[str, pn.widgets.Widget] = {}
        for name, (multiple, allowed) in criteria.items():
            current = list(customer.segments.get(name, []))
            options = allowed + [v for v in current if v not in allowed]
            if multiple:
                widget = pn.widgets.MultiChoice(label=name, options=options, value=current,
                                                sizing_mode="stretch_width")
            else:
                widget = pn.widgets.Select(label=name, options=["—", *options],
                                           value=current[0] if current else "—", sizing_mode="stretch_width")
            self.widgets[name] = widget
        self._message = pn.pane.HTML("", css_classes=["cc-field-error"], sizing_mode="stretch_width",
                                     stylesheets=[":host { color: #b42318; font-size: .85em }"])
        self._layout = pn.Column(pn.GridBox(*self.widgets.values(), ncols=2, sizing_mode="stretch_width"),
                                 self._message, sizing_mode="stretch_width")

    def values(self) -> dict[str, Any]:
        out = {}
        for name, widget in self.widgets.items():
            value = widget.value
            out[f"segments.{name}"] = list(value) if isinstance(value, list) else ([] if value == "—" else [value])
        return out

    def changed(self, original: Customer) -> dict[str, Any]:
        return {field: value for field, value in self.values().items()
                if sorted(value) != sorted(original.segments.get(field.split(".", 1)[1], []))}

    def show_errors(self, errors: dict[str, str]) -> dict[str, str]:
        self._message.object = esc(errors.get("segments", ""))
        return {f: m for f, m in errors.items() if f != "segments"}

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


class HistoryView(pn.viewable.Viewer):
    """Every change of the customer (newest first), filterable by field, each restorable."""

    field = param.String(default=ALL_FIELDS, doc="Only changes of this field.")
    limit = param.Integer(default=HISTORY_PAGE, doc="How many changes are shown.")

    def __init__(self, section: GroupsSection, **params: Any) -> None:
        super().__init__(**params)
        self.section = section
        context = section.context
        columns = [{"key": "when", "label": _("When")}, {"key": "who", "label": _("Who")},
                   {"key": "what", "label": _("Field")}, {"key": "old", "label": _("Old value")},
                   {"key": "new", "label": _("New value")}]
        if context.can_edit:
            columns.append({"key": "restore", "label": "", "action": "restore",
                            "action_label": _("Restore old value")})
        self._filter = pn.widgets.Select(label=_("Show changes of"), width=280)
        self._filter.param.watch(lambda e: setattr(self, "field", e.new), "value")
        self._table = DataTable(columns=columns, empty_text=_("No changes recorded."), sizing_mode="stretch_width",
                                css_classes=["cc-history"])
        self._table.on_action(self._on_action)
        self._more = pn.widgets.Button(label=_("Show more"), color="light", visible=False)
        self._more.on_click(lambda _e: setattr(self, "limit", self.limit + HISTORY_PAGE))
        self.refresh()

    @param.depends("field", "limit", watch=True)
    def refresh(self) -> None:
        context = self.section.context
        frame = context.store.history(context.customer.id)
        fields_seen = list(dict.fromkeys(frame["field"]))
        options = {_("All fields"): ALL_FIELDS}
        options.update({self.section._label_of(f): f for f in fields_seen})
        self._filter.options = options
        if self.field in options.values():
            self._filter.value = self.field
        shown = frame if self.field == ALL_FIELDS else frame[frame["field"] == self.field]
        locale = context.locale
        rows = []
        for row in shown.head(self.limit).itertuples(index=False):
            restorable = row.kind != "create" or row.old_value is not None
            rows.append({"id": int(row.change_id), "when": formatting.datetime(row.changed_at, locale),
                         "who": context.store.user_name(row.changed_by),
                         "what": self.section._label_of(row.field) + ("" if row.kind == "update" else f" ({row.kind})"),
                         "old": self.shown_value(row.field, row.old_value),
                         "new": self.shown_value(row.field, row.new_value),
                         "restore": _("Restore") if restorable and row.kind != "create" else ""})
        self._table.rows = rows
        self._more.visible = len(shown) > self.limit

    def shown_value(self, field: str, text: str | None) -> str:
        """A history value as people read it: names for logins, Yes/No, lists joined."""
        if text is None or text == "":
            return ""
        if field == "account_manager":
            return self.section.context.store.user_name(text)
        if text in ("true", "false"):
            return _("Yes") if text == "true" else _("No")
        if field.startswith("segments."):
            try:
                return ", ".join(json.loads(text))
            except ValueError:
                return text
        return text

    def _on_action(self, action: str, row_id: int) -> None:
        if action == "restore":
            self.section.restore(row_id)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.HTML(f"<h4>{esc(_('History'))}</h4>", margin=(0, 10)), self._filter, self._table,
                         self._more, sizing_mode="stretch_width", css_classes=["cc-history-view"])


class GroupsSection(Section):
    key = "groups"
    title = _("Groups and log")
    collapsed_by_default = True
    edit_fields = ("segments",)

    def markup(self) -> str:
        c, store, locale = self.context.customer, self.context.store, self.context.locale
        criteria = store.choices().criteria
        segment_pairs = []
        for name in list(criteria) + [n for n in c.segments if n not in criteria]:
            values = c.segments.get(name, [])
            segment_pairs.append((name, " ".join(f'<span class="cc-badge">{esc(v)}</span>' for v in values)))
        if c.is_linked:
            linked = _("Linked to {system} as customer {id}; last synchronised {when}").format(
                system=c.erp_system, id=c.erp_customer_id,
                when=formatting.datetime(c.erp_synced_at, locale) or _("never"))
        else:
            linked = _("Not linked to a customer in the economy system")
        log = fields([
            (_("Created"), esc(f"{formatting.datetime(c.created_at, locale)} · {store.user_name(c.created_by)}")),
            (_("Last updated"), esc(f"{formatting.datetime(c.updated_at, locale)} · {store.user_name(c.updated_by)}")),
            (_("Economy system"), f'<span id="cc-erp-link">{esc(linked)}</span>'),
        ])
        return (f"<h4>{esc(_('Segmentation'))}</h4>{fields(segment_pairs, empty=_('not set'))}"
                f"<h4>{esc(_('Log'))}</h4>{log}")

    def body(self):
        self._html = html_pane(self.markup(), css_classes=["cc-groups"])
        self._history = HistoryView(self)
        return pn.Column(self._html, self._history, sizing_mode="stretch_width", margin=0)

    def refresh(self) -> None:
        self._html.object = self.markup()
        self._history.refresh()

    def make_form(self, draft: Customer) -> SegmentsForm:
        return SegmentsForm(draft, self.context.store.choices().criteria)

    def restore(self, change_id: int) -> None:
        context = self.context
        try:
            saved = context.store.restore(context.customer.id, change_id, which="old", user=context.login,
                                          expected_version=context.customer.version)
        except ConflictError:
            context.reload()
            self._say(_("Someone saved this customer meanwhile; the card now shows their values. "
                        "Restore again if you still want to."), ok=False)
            return
        except CustomerCardError as exc:
            self._say(str(exc), ok=False)
            return
        context.adopt(saved)
        self._say(_("Restored; the history records it as a new change."), ok=True)
