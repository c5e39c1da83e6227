"""System administration → Customers: lists, settings and switches, segmentation criteria, users, the log.

Administrators only; the store refuses every admin write from anyone else, whatever the page shows.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import panel as pn
import param

from .. import formatting, passwords
from ..errors import ConflictError, CustomerCardError, ValidationError
from ..i18n import _, ngettext, pgettext
from ..integration import said_error
from ..models import LIST_NAMES, NOTE_LENGTH, Criterion, ListValue, Settings, User, to_text
from ..spreadsheets import LIMITS
from ..store import Store
from ..validators import isolated
from .accessibility import BUTTON_CSS, focus_here, live
from .admin_log import log_row
from .editor import RecordEditor
from .form import input_limit, read_text, text_input
from .html import SECTION_CSS, esc, page_heading, plain_text, table
from .widgets import NARROW_FIELD, wrapping

NEW = "__new__"


def _note(pane: pn.pane.HTML, text: str, ok: bool, focus: bool = False) -> None:
    """A message under a panel's controls, said in the live region; ``focus``: it takes the focus (the form the
    keyboard was in was drawn again after its save: the focus fell to the page, or to another tab)."""
    color = "#1d7a3c" if ok else "#b42318"
    marks = live(ok) + (focus_here() if focus else "")
    pane.object = f'<p class="cc-admin-message" style="color:{color}"{marks}>{esc(text)}</p>' if text else ""


def _kept(editor: RecordEditor, store: Store, login: str) -> str:
    """What a save merged on top of another administrator's (the fields they changed meanwhile, kept as they saved
    them, and who), said as the card says it; empty when the save met nobody's."""
    names = ", ".join(dict.fromkeys(f"{editor.label_of(c.field)} ({store.user_name(c.changed_by)})"
                                    for c in editor.kept if c.changed_by and c.changed_by != login))
    return _("Saved. Also changed meanwhile, and kept: {fields}.").format(fields=names) if names else ""


def _message_pane() -> pn.pane.HTML:
    return pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-admin-note"],
                        stylesheets=["[data-cc-focus]:focus { outline: 2px solid #1f5c99; outline-offset: 2px; }"])


class AdminPanel(pn.viewable.Viewer):
    """What the administration's panels share: the store and the administrator, a message under their controls, and
    the layout they show."""

    _message: pn.pane.HTML
    _layout: pn.viewable.Viewable

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(**params)
        self.store, self.login = store, login

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout

    def _refused(self, exc: CustomerCardError) -> bool:
        """Say under the controls why a change was refused (what the model said of each value, or why); False."""
        said = " ".join(exc.errors.values()) if isinstance(exc, ValidationError) else ""
        _note(self._message, said or str(exc), ok=False)
        return False

    @property
    def message(self) -> str:
        """The text of the panel's last message ("Saved.", or why a change was refused), empty when none."""
        return plain_text(self._message.object)


class ListsAdmin(AdminPanel):
    """The admin lists: add, rename, reorder, deactivate (values stay on customers that have them)."""

    list_name = param.Selector(default="industries", objects=list(LIST_NAMES), doc="The list being kept.")

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(store, login, **params)
        self._choose = pn.widgets.Select(label=_("List"), options={_(label): key for key, label in LIST_NAMES.items()},
                                         value=self.list_name, css_classes=["cc-admin-list"], **NARROW_FIELD)
        self._choose.param.watch(lambda e: setattr(self, "list_name", e.new), "value")
        self._values = pn.widgets.Select(label=_("Value"), options={}, size=10, css_classes=["cc-admin-values"],
                                         **NARROW_FIELD)
        self._rename = text_input(ListValue.param.label, label=_("New name"), css_classes=["cc-admin-rename"],
                                  **NARROW_FIELD)
        self._inverse = text_input(ListValue.param.inverse_label, label=_("Seen from the other side (relation types)"),
                                   **NARROW_FIELD, css_classes=["cc-admin-inverse"])
        self._add = text_input(ListValue.param.label, label=_("Add a value"), css_classes=["cc-admin-add"],
                               **NARROW_FIELD)
        self._table = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width")
        self._message = _message_pane()
        buttons = {
            "up": (_("Move up"), lambda: self._act(lambda v: self._move(v, -1))),
            "down": (_("Move down"), lambda: self._act(lambda v: self._move(v, 1))),
            "toggle": (_("Deactivate / activate"), lambda: self._act(self._toggle)),
            "rename": (_("Rename"), lambda: self._act(self._do_rename)),
            "add": (_("Add"), self._do_add),
        }
        self._buttons = {}
        for key, (label, action) in buttons.items():
            button = pn.widgets.Button(label=label, css_classes=[f"cc-admin-btn-{key}"])
            button.on_click(lambda _e, action=action: action())
            self._buttons[key] = button
        self._values.param.watch(self._on_pick, "value")
        # Enter in "Add a value" adds it, in "New name" renames (as Enter sends a form's one-line field)
        self._add.param.watch(lambda _e: self._do_add(), "enter_pressed")
        self._rename.param.watch(lambda _e: self._act(self._do_rename), "enter_pressed")
        self.refresh()

    @param.depends("list_name", watch=True)
    def refresh(self) -> None:
        frame = self.store.list_values(self.list_name)
        self._frame = frame
        options = {f"{r.label}{'' if r.active else ' (' + _('inactive') + ')'}": int(r.id)
                   for r in frame.itertuples(index=False)}
        current = self._values.value
        self._values.options = options
        if current in options.values():
            self._values.value = current
        self._inverse.visible = self.list_name == "relation_types"
        rows = [[esc(r.position), esc(r.label), esc(r.inverse_label), esc(_("Yes") if r.active else _("No"))]
                for r in frame.itertuples(index=False)]
        self._table.object = table([(_("Order"), False), (_("Value"), False), (_("Inverse"), False),
                                    (_("Active"), False)], rows, css_id="cc-admin-list-table")

    def _on_pick(self, event: param.parameterized.Event) -> None:
        row = self._frame[self._frame["id"] == event.new]
        if not row.empty:
            self._rename.value = row.iloc[0]["label"]
            self._inverse.value = row.iloc[0]["inverse_label"]

    def _seen(self, value_id: int) -> int:
        """The version of a value as the list on the page shows it (a change from it is refused once stale)."""
        return int(self._frame.set_index("id").loc[value_id, "version"])

    def _move(self, value_id: int, steps: int) -> None:
        if not self.store.move_list_value(value_id, steps, user=self.login, version=self._seen(value_id)):
            label = self._frame.set_index("id").loc[value_id, "label"]
            raise CustomerCardError((_("“{label}” is first in the list already.") if steps < 0 else
                                     _("“{label}” is last in the list already.")).format(label=isolated(label)))

    def _toggle(self, value_id: int) -> None:
        active = bool(self._frame.set_index("id").loc[value_id, "active"])
        self.store.set_list_value_active(value_id, not active, user=self.login, version=self._seen(value_id))

    def _do_rename(self, value_id: int) -> None:
        inverse = read_text(self._inverse.value, ListValue.param.inverse_label) \
            if self.list_name == "relation_types" else None
        self.store.rename_list_value(value_id, read_text(self._rename.value, ListValue.param.label), user=self.login,
                                     inverse_label=inverse, version=self._seen(value_id))

    def _act(self, action) -> None:
        if self._values.value is None:
            _note(self._message, _("Choose a value first."), ok=False)
            return
        self._run(lambda: action(self._values.value))

    def _do_add(self) -> None:
        inverse = read_text(self._inverse.value, ListValue.param.inverse_label) \
            if self.list_name == "relation_types" else ""
        label = read_text(self._add.value, ListValue.param.label)
        if self._run(lambda: self.store.add_list_value(self.list_name, label, user=self.login,
                                                       inverse_label=inverse)):
            self._add.value = ""

    def _run(self, action) -> bool:
        try:
            action()
        except ConflictError as exc:
            now = exc.conflicts[0].stored if exc.conflicts else ""
            _note(self._message, _("Not saved: another administrator changed this value meanwhile (it is now "
                                   "“{label}”). The list shows it as it is now; do it again if you still want "
                                   "to.").format(label=now), ok=False)
            self.refresh()
            return False
        except CustomerCardError as exc:
            return self._refused(exc)
        _note(self._message, _("Saved."), ok=True)
        self.refresh()
        return True

    def __panel__(self) -> pn.viewable.Viewable:
        b = self._buttons
        controls = pn.Column(self._choose, self._values, wrapping(b["up"], b["down"]), b["toggle"],
                             self._rename, self._inverse, b["rename"], self._add, b["add"], self._message,
                             sizing_mode="stretch_width", max_width=360, styles={"flex": "0 1 360px"})
        return wrapping(controls, _beside(self._table), align_items="flex-start", css_classes=["cc-admin-lists"])


class SettingsAdmin(AdminPanel):
    """Switches (nicknames, separate invoice address, document storage) and the firm's settings."""

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(store, login, **params)
        self._message = _message_pane()
        self._layout = pn.Column(sizing_mode="stretch_width")
        self._build()

    def _build(self) -> None:
        """The settings as stored now, in an editor that saves them on that version (a stale save is a conflict
        to resolve, never an overwrite of another administrator's change)."""
        self.editor = RecordEditor(self.store.settings(), list(Settings.fields), save=self._store, done=self._saved,
                                   cancelled=None, reload=self.store.settings, css="cc-admin-settings",
                                   save_label=_("Save settings"), save_css="cc-admin-save-settings",
                                   user_name=self.store.user_name, message=self._message, choices=self.store.choices,
                                   guarded=True)
        self.form = self.editor.form
        self._layout.objects = [self.editor.__panel__()]

    def _store(self, settings: Settings) -> Settings:
        return self.store.save_settings(settings, user=self.login)

    def _saved(self, _settings: Settings) -> None:
        kept = _kept(self.editor, self.store, self.login)
        self._build()
        _note(self._message, kept or _("Settings saved."), ok=True, focus=True)

    def save(self) -> bool:
        _note(self._message, "", ok=True)
        return self.editor.save()


class CriteriaAdmin(AdminPanel):
    """Segmentation criteria: name, single or multiple choice, values (one per line).

    A criterion another administrator saved while it was open here is never overwritten unseen: the save is refused,
    what was typed stays in the form (a field not changed here takes their value), and the message says what they
    changed and who. Save criterion again stores the form on the version the message showed (a change after that is
    a conflict again); Keep stored shows theirs instead."""

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(store, login, **params)
        self._pick = pn.widgets.Select(label=_("Criterion"), css_classes=["cc-admin-criterion"], **NARROW_FIELD)
        self._name = text_input(Criterion.param.name, label=_("Name"), css_classes=["cc-admin-criterion-name"],
                                **NARROW_FIELD)
        self._multiple = pn.widgets.Checkbox(label=_("Multiple choice"), css_classes=["cc-admin-criterion-multiple"])
        self._active = pn.widgets.Checkbox(label=_("Active"), value=True)
        # one value a line, each as long as the model allows (see Criterion.values); the area as long as a note
        self._values = pn.widgets.TextAreaInput(label=_("Values, one per line (removed values are deactivated)"),
                                                height=160, **NARROW_FIELD, max_length=input_limit(NOTE_LENGTH),
                                                css_classes=["cc-admin-criterion-values"])
        save = pn.widgets.Button(label=_("Save criterion"), color="primary", css_classes=["cc-admin-save-criterion"])
        save.on_click(lambda _e: self.save())
        # shown after a conflict: the criterion as stored now instead of what was typed
        self._stored = pn.widgets.Button(label=_("Keep stored"), visible=False,
                                         css_classes=["cc-admin-criterion-stored"])
        self._stored.on_click(lambda _e: self.use_stored())
        self._message = _message_pane()
        self._pick.param.watch(lambda e: self._load(e.new), "value")
        self._layout = pn.Column(self._pick, self._name, self._multiple, self._active, self._values,
                                 wrapping(save, self._stored), self._message)
        self.refresh()

    def refresh(self, select: int | str | None = None) -> None:
        self._criteria = {c.id: c for c in self.store.criteria(include_inactive=True)}
        options = {_("New criterion…"): NEW}
        options.update({c.name + ("" if c.active else f" ({_('inactive')})"): c.id for c in self._criteria.values()})
        self._pick.options = options
        self._pick.value = select if select in options.values() else NEW
        self._load(self._pick.value)

    def _load(self, key: Any) -> None:
        self._stored.visible = False
        criterion = self._criteria.get(key, Criterion(active=True))
        self._name.value, self._multiple.value = criterion.name, criterion.multiple
        self._active.value, self._values.value = criterion.active, "\n".join(criterion.values)

    def _typed(self) -> dict[str, Any]:
        """The criterion's fields as the form holds them."""
        values = [read_text(line, Criterion.param["values"]) for line in (self._values.value or "").splitlines()]
        return {"name": read_text(self._name.value, Criterion.param.name), "multiple": bool(self._multiple.value),
                "active": bool(self._active.value), "values": values}

    def save(self, again: bool = True) -> bool:
        """Save the criterion in the form (``again``: once more on the stored version when someone saved it meanwhile
        without changing anything)."""
        key = self._pick.value
        shown = self._criteria.get(key)
        criterion = Criterion(id=None if key == NEW else key, version=shown.version if shown is not None else 0,
                              **self._typed())
        try:
            saved = self.store.save_criterion(criterion, user=self.login)
        except ConflictError as exc:
            return self._conflict(key, exc, again)
        except CustomerCardError as exc:
            return self._refused(exc)
        _note(self._message, _("Criterion saved."), ok=True, focus=True)
        self.refresh(select=saved.id)
        return True

    def _conflict(self, key: Any, error: ConflictError, again: bool) -> bool:
        """Someone saved the criterion since the form showed it: what was typed stays (a field not changed here
        takes the stored value), the message says what is stored now and who changed it, and the next Save is made
        on that version."""
        seen = self._criteria.get(key)
        now = next((c for c in self.store.criteria(include_inactive=True) if c.id == key), None)
        if seen is None or now is None:  # (criteria are never deleted; nothing to show but the list as it is)
            self.refresh(select=key)
            _note(self._message, str(error), ok=False)
            return False
        typed = self._typed()
        differ = [field for field in Criterion.fields if to_text(_field_of(seen, field)) !=
                  to_text(_field_of(now, field))]
        untouched = [field for field in differ if _same_field(field, typed[field], _field_of(seen, field))]
        if untouched:  # theirs, where nothing was typed here
            taken = {**typed, **{field: _field_of(now, field) for field in untouched}}
            self._name.value, self._multiple.value = taken["name"], taken["multiple"]
            self._active.value, self._values.value = taken["active"], "\n".join(taken["values"])
        self._criteria[key] = now  # the version the message shows: the next Save is made on it
        if not differ and again:  # saved meanwhile, but nothing of it changed: nothing of theirs to overwrite
            return self.save(again=False)
        self._stored.visible = True
        labels = {"name": _("Name"), "multiple": _("Multiple choice"), "active": _("Active"), "values": _("Values")}
        said = []
        for field in differ:
            changer = error.conflicts[field].changed_by if field in error.conflicts else None
            who = f" ({self.store.user_name(changer)})" if changer else ""
            said.append(f"{labels[field]}: {_criterion_value(_field_of(now, field))}{who}")
        changes = "; ".join(said) or _criterion_value(_field_of(now, "values"))
        _note(self._message, _("Not saved yet: another administrator saved this criterion meanwhile. Stored now: "
                               "{changes}. What you typed is still in the form: save again to store it over "
                               "theirs, or keep the stored one.").format(changes=changes), ok=False)
        return False

    def use_stored(self) -> None:
        """Show the criterion as stored now, instead of what was typed (after a conflict)."""
        key = self._pick.value
        self.refresh(select=key)
        _note(self._message, "", ok=True)


def _field_of(criterion: Criterion, field: str) -> Any:
    return list(criterion.values) if field == "values" else criterion.get(field)


def _same_field(field: str, typed: Any, seen: Any) -> bool:
    """Whether the form holds a criterion's field as it was shown (values: the same lines, blank ones aside)."""
    if field == "values":
        return [v.strip() for v in typed if v and v.strip()] == [v.strip() for v in seen]
    return to_text(typed) == to_text(seen)


def _criterion_value(value: Any) -> str:
    """A criterion's field as people read it in a message."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(value) or _("(empty)")
    return str(value) or _("(empty)")


class UsersAdmin(AdminPanel):
    """Users: add, change role and projects access, deactivate, reset the password."""

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(store, login, **params)
        self._pick = pn.widgets.Select(label=_("User"), css_classes=["cc-admin-user"], **NARROW_FIELD)
        self._pick.param.watch(lambda e: self._load(e.new), "value")
        self._form_box = pn.Column(sizing_mode="stretch_width")
        self._password = pn.widgets.PasswordInput(label=_("New password (leave empty to keep)"), **NARROW_FIELD,
                                                  css_classes=["cc-admin-password"])
        self._message = _message_pane()
        self._table = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width")
        self._layout = wrapping(pn.Column(self._pick, self._form_box, sizing_mode="stretch_width", max_width=420,
                                          styles={"flex": "0 1 420px"}), _beside(self._table),
                                align_items="flex-start")
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        users = self.store.users(include_inactive=True)
        options = {_("New user…"): NEW}
        # (a display name kept to itself: a direction control in it turned the login after it round)
        options.update({f"{isolated(r.name)} ({r.login})": r.login for r in users.itertuples(index=False)})
        self._pick.options = options
        self._pick.value = select if select in options.values() else NEW
        self._load(self._pick.value)
        rows = [[esc(r.login), esc(r.name), esc(r.email), esc(_(r.role)),
                 esc(_("Yes") if r.projects_access else _("No")), esc(_("Yes") if r.active else _("No"))]
                for r in users.itertuples(index=False)]
        self._table.object = table([(_("Login"), False), (_("Name"), False), (_("E-mail"), False),
                                    (_("Role"), False), (_("Projects"), False), (_("Active"), False)], rows,
                                   css_id="cc-admin-users-table")

    def _load(self, login: str) -> None:
        """The user as stored now (or a new one) in an editor that saves on that version: another administrator's
        change meanwhile is a conflict to resolve, never overwritten."""
        store = self.store
        created = login == NEW
        user = User(role="manager") if created else store.get_user(login)
        # a new user's password is needed (its label said "leave empty to keep", and leaving it empty was refused)
        self._password.name = _("Password") if created else _("New password (leave empty to keep)")
        fields = ["login", "name", "email", "role", "projects_access", "active"] if created else \
            ["name", "email", "role", "projects_access", "active"]
        self.editor = RecordEditor(user, fields, columns=1, cancelled=None, done=self._saved, css="cc-admin-user-form",
                                   save=self._add if created else self._update,
                                   labels={"password": self._password.label},
                                   reload=None if created else (lambda: store.get_user(login)),
                                   save_label=_("Save user"), save_css="cc-admin-save-user",
                                   user_name=store.user_name, extra=[self._password], message=self._message,
                                   choices=store.choices, guarded=True)
        self.form = self.editor.form
        self._form_box.objects = [self.editor.__panel__()]
        self._password.value = ""

    def _add(self, user: User) -> User:
        if not self._password.value:
            raise ValidationError({"password": _("A new user needs a password.")})
        return self.store.add_user(user, self._password.value, by=self.login)

    def _update(self, user: User) -> User:
        # a new password the policy refuses is refused before anything is written: the role or the deactivation
        # typed with it is not stored either (the administrator is told the save was refused)
        problem = passwords.policy_problem(self._password.value, user.login) if self._password.value else ""
        if problem:
            raise ValidationError({"password": problem})
        return self.store.update_user(user, by=self.login)

    def _saved(self, user: User) -> None:
        password = self._password.value or ""
        said = _("User saved.")
        if password and user.id is not None and self.editor.original.id is not None:
            try:
                revoked = self.store.set_password(user.login, password, by=self.login)
            except CustomerCardError as exc:
                self._refused(exc)
                return
            if revoked:
                said = ngettext("User saved. Their sessions ended and {n} API token of theirs was revoked.",
                                "User saved. Their sessions ended and {n} API tokens of theirs were revoked.",
                                revoked).format(n=revoked)
        kept = _kept(self.editor, self.store, self.login)
        self.refresh(select=user.login)
        _note(self._message, kept or said, ok=True, focus=True)

    def save(self) -> bool:
        """Save the user in the form (and the new password, when one is typed)."""
        _note(self._message, "", ok=True)
        return self.editor.save()


class AdminLog(pn.viewable.Viewer):
    """Every admin change: who, when, what, old → new."""

    #: Entries shown at first, and added by each "Show older entries".
    PAGE = 200

    def __init__(self, store: Store, **params: Any) -> None:
        super().__init__(**params)
        self.store = store
        self.shown = self.PAGE
        self._count = 0
        self._html = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width", css_classes=["cc-admin-log"])
        # logins (and failed ones, lockouts) soon outnumber the rest: shown when asked for, or chosen as the area
        self._area = pn.widgets.Select(label=_("Area"), css_classes=["cc-admin-log-area"], **NARROW_FIELD)
        self._logins = pn.widgets.Checkbox(label=_("Show logins"), value=False, css_classes=["cc-admin-log-logins"])
        self._older = pn.widgets.Button(label=_("Show older entries"), css_classes=["cc-admin-log-older"],
                                        stylesheets=[BUTTON_CSS])
        self._area.param.watch(lambda _e: self._again(), "value")
        self._logins.param.watch(lambda _e: self._again(), "value")
        self._older.on_click(lambda _e: self.show_older())
        self.refresh()

    def _again(self) -> None:
        self.shown = self.PAGE
        self.refresh()

    def show_older(self) -> None:
        """Show the next entries (older ones) below those shown (nothing when there are none)."""
        if not getattr(self, "_more", True):
            return
        self.shown += self.PAGE
        self.refresh()

    def refresh(self) -> None:
        areas = {log_row(area, "", None, None)[0]: area for area in self.store.admin_log_areas()}
        options = {_("All areas"): "", **{label: areas[label] for label in sorted(areas, key=str.casefold)}}
        if self._area.options != options:
            self._area.options = options
        area = self._area.value or None
        frame: pd.DataFrame = self.store.admin_log(limit=self.shown + 1, area=area,
                                                   include_logins=bool(self._logins.value or area))
        more = len(frame) > self.shown
        frame = frame.head(self.shown)
        self._count = len(frame)
        zone = self.store.settings().time_zone
        rows = [[esc(formatting.datetime(r.changed_at, zone)), esc(self.store.user_name(r.changed_by)),
                 *(esc(text) for text in log_row(r.area, r.item, r.old_value, r.new_value))]
                for r in frame.itertuples(index=False)]
        self._html.object = table([(_("When"), False), (_("Who"), False), (_("Area"), False), (_("What"), False),
                                   (_("Old"), False), (_("New"), False)], rows, css_id="cc-admin-log-table")
        # kept where it is when nothing older is left (hidden, it took the focus with it to the page's top)
        self._older.label = _("Show older entries") if more else _("No older entries")
        self._more = more

    @property
    def rows_shown(self) -> int:
        """How many entries the log shows now."""
        return self._count

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(wrapping(self._area, self._logins, align_items="center"), _scrolling(self._html), self._older,
                         sizing_mode="stretch_width")


class ImportAdmin(pn.viewable.Viewer):
    """Import customers from a CSV or Excel file (every row validated; a file with a bad row imports nothing).

    The file is read, checked and imported on a worker thread, so the server keeps answering everyone else
    meanwhile; what an import may read is bounded (see :mod:`customercard.spreadsheets`)."""

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(**params)
        self.store, self.login = store, login
        self._file = pn.widgets.FileInput(accept=".csv,.tsv,.txt,.xlsx", label=_("File to import"),
                                           css_classes=["cc-import-file"])
        self._dry = pn.widgets.Checkbox(label=_("Only check (dry run)"), value=True, css_classes=["cc-import-dry"])
        self._go = pn.widgets.Button(label=pgettext("do it", "Import"), color="primary", css_classes=["cc-import-go"])
        self._go.on_click(self._clicked)
        self._running = False
        self._report = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-import-report"])
        hint = _("Columns: Name, Org number, VAT, Address, Postal code, City, Country, Phone, E-mail, Website, "
                 "Industry, Status, Account manager — or the headers of an export. At most {rows} rows and "
                 "{size} a file.").format(rows=formatting.number(LIMITS.rows),
                                          size=f"{LIMITS.file_bytes // (1024 * 1024)} MB")
        self._layout = pn.Column(pn.pane.HTML(f"<p>{esc(hint)}</p>", sizing_mode="stretch_width"),
                                 self._file, self._dry, self._go, self._report, sizing_mode="stretch_width")

    async def _clicked(self, _event: Any) -> None:
        # A second click is on its way before the button is drawn disabled (a double click): while an import runs,
        # a click imports nothing more — else every row of the file was made twice.
        if self._running:
            return
        self._running = True
        self._go.disabled = True
        self._report.object = f'<p class="cc-muted">{esc(_("Reading the file…"))}</p>'
        try:
            _ok, html = await asyncio.to_thread(self._import, self._file.value, self._file.filename, self._dry.value)
        finally:
            self._running = False
            self._go.disabled = False
        self._report.object = html

    def run(self) -> bool:
        """Import (or check) the chosen file here and now; True when it had no problems."""
        ok, self._report.object = self._import(self._file.value, self._file.filename, self._dry.value)
        return ok

    def _import(self, data: bytes | None, filename: str | None, dry_run: bool) -> tuple[bool, str]:
        """(no problems?, the report as HTML) — no widget is touched here (it may run on a worker thread)."""
        from ..files import safe_name
        from ..importexport import import_customers

        if not data and not filename:
            return False, f'<p style="color:#b42318"{live(False)}>{esc(_("Choose a file first."))}</p>'
        name = safe_name(filename or "import.csv")  # what messages call the file: the name the user knows
        if not data:  # a file of no bytes was chosen (as the command line says it)
            return False, f'<p style="color:#b42318"{live(False)}>{esc(_("{name} is empty.").format(name=name))}</p>'
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / (name if Path(name).suffix else name + ".csv")
            path.write_bytes(data)
            try:
                report = import_customers(self.store, path, user=self.login, dry_run=dry_run)
            except CustomerCardError as exc:
                return False, f'<p style="color:#b42318"{live(False)}>{esc(str(exc))}</p>'
        color = "#1d7a3c" if report.ok else "#b42318"
        return report.ok, (f'<pre style="white-space:pre-wrap;color:{color}"{live(report.ok)}'
                           ' class="cc-import-summary">'
                           f"{esc(report.summary())}</pre>")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


class SyncAdmin(AdminPanel):
    """Deliveries to the economy system: pending and failed ones, and a retry for the failed."""

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(store, login, **params)
        self._html = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width", css_classes=["cc-sync"])
        retry = pn.widgets.Button(label=_("Retry all failed"), color="warning", css_classes=["cc-sync-retry"],
                                  stylesheets=[BUTTON_CSS])
        retry.on_click(lambda _e: self.retry())
        self._message = _message_pane()
        self._layout = pn.Column(self._html, retry, self._message, sizing_mode="stretch_width")
        self.refresh()

    def refresh(self) -> None:
        from ..config import get_config

        counts = self.store.outbox_counts()
        url = get_config().sync_url or self.store.settings().sync_url
        configured = bool(url and get_config().sync_secret)
        state = _("Receiver: {url}").format(url=url) if configured else \
            _("Not configured: set the receiver URL in Settings and CUSTOMERCARD_SYNC_SECRET on the server.")
        frame = pd.concat([self.store.outbox(status="failed"), self.store.outbox(status="pending")])
        zone = self.store.settings().time_zone
        rows = [[esc(r.customer_name), esc(_(r.status)), esc(r.attempts),
                 esc(formatting.datetime(r.created_at, zone)), esc(formatting.datetime(r.next_attempt_at, zone)),
                 esc(said_error(r.last_error))] for r in frame.itertuples(index=False)]
        listing = table([(_("Customer"), False), (_("Status"), False), (_("Attempts"), True), (_("Changed"), False),
                         (_("Next try"), False), (_("Last error"), False)], rows, css_id="cc-sync-table") \
            if rows else f'<p class="cc-empty">{esc(_("Nothing waiting."))}</p>'
        summary = _("{p} pending, {f} failed, {d} delivered").format(p=counts["pending"], f=counts["failed"],
                                                                        d=counts["delivered"])
        self._html.object = f"<p>{esc(state)}</p><p id='cc-sync-counts'>{esc(summary)}</p>{listing}"

    def retry(self) -> int:
        try:
            count = self.store.retry_outbox(user=self.login)
        except CustomerCardError as exc:
            _note(self._message, str(exc), ok=False)
            return 0
        _note(self._message, ngettext("{n} delivery will be tried again.", "{n} deliveries will be tried again.",
                                      count).format(n=count), ok=True)
        self.refresh()
        return count


class AdminPage(pn.viewable.Viewer):
    """System administration → Customers, as tabs."""

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(**params)
        self.store, self.login = store, login
        self.lists = ListsAdmin(store, login)
        self.settings = SettingsAdmin(store, login)
        self.criteria = CriteriaAdmin(store, login)
        self.users = UsersAdmin(store, login)
        self.log = AdminLog(store)
        self.imports = ImportAdmin(store, login)
        self.sync = SyncAdmin(store, login)
        tabs = ((_("Lists"), self.lists), (_("Settings"), self.settings), (_("Segmentation"), self.criteria),
                (_("Users"), self.users), (_("Import"), self.imports), (_("Economy system"), self.sync),
                (_("Log"), self.log))
        self._tabs = pn.Tabs(*tabs, dynamic=True, sizing_mode="stretch_width", css_classes=["cc-admin-tabs"])
        # The economy system's state and the log are read again each time their tab is opened.
        self._refresh_on_open = {index: panel.refresh for index, (_label, panel) in enumerate(tabs)
                                 if panel is self.sync or panel is self.log}
        self._tabs.param.watch(self._on_tab, "active")

    def _on_tab(self, event: param.parameterized.Event) -> None:
        refresh = self._refresh_on_open.get(event.new)
        if refresh is not None:
            refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.HTML(page_heading(_('System administration → Customers')), margin=(0, 10)),
                         self._tabs, sizing_mode="stretch_width")


def _scrolling(pane: pn.pane.HTML) -> pn.pane.HTML:
    """A table's pane that scrolls sideways in its own box where the screen is narrower than the table (the page
    itself does not: WCAG 1.4.10 Reflow)."""
    pane.param.update(sizing_mode="stretch_width", min_width=0,
                      styles={**pane.styles, "overflow-x": "auto", "max-width": "100%"})
    return pane


def _beside(pane: pn.pane.HTML) -> pn.pane.HTML:
    """A table beside a block of fields: the rest of the row, or a row of its own on a narrow screen."""
    pane = _scrolling(pane)
    pane.styles = {**pane.styles, "flex": "1 1 300px"}
    return pane

