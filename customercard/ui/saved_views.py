"""The saved views menu of Search customers: the views a user may open (their own, then those shared with everyone)
as links that open the page on that view's URL, and a small form to save the current search under a name —
private or shared — or to overwrite, rename or delete the view that is open (a shared one: its owner or an
administrator; the store checks)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from ..errors import ConflictError, CustomerCardError, NotFound, PermissionDenied, ValidationError
from ..i18n import _
from ..models import SavedView
from ..store import STORE_TYPES
from . import assets
from .accessibility import focus_here, live
from .form import input_limit, read_text, text_limits
from .html import esc, isolated

MENU_CSS = assets.text("saved_views.css")


def view_href(view: SavedView) -> str:
    """The URL that opens a view as it is saved when it is opened: the page with the view's id only (a menu drawn
    before the view was changed still opens it as it is now)."""
    return f"/search?view={int(view.id)}"


class SavedViewsMenu(pn.viewable.Viewer):
    """The views menu and the form that saves the current search (``search``: the page's URL query)."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the views are kept.")
    login = param.String(default="", doc="Whose menu this is.")
    search = param.String(default="", doc="The current search's URL query (without the view).")
    view_id = param.Integer(default=None, allow_None=True, doc="The view open now, if one is.")
    view_version = param.Integer(default=None, allow_None=True, doc="The version of the open view the page's search "
                                 "was opened from (a bookmark says it): saving over a view changed since is a "
                                 "conflict. None: as it is stored.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._menu = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[MENU_CSS],
                                  css_classes=["cc-views-menu"], margin=(0, 10))
        # room beyond the model's limit, so that a longer name is refused with a message rather than cut short
        self._name = pn.widgets.TextInput(label=_("View name"), css_classes=["cc-view-name"],
                                          max_length=input_limit(text_limits(SavedView.param["name"])[0]),
                                          sizing_mode="stretch_width")
        self._shared = pn.widgets.Checkbox(label=_("Shared with everyone"), css_classes=["cc-view-shared"],
                                           disabled=not self.store.can(self.login, "write"))
        self._save = pn.widgets.Button(label=_("Save as new view"), css_classes=["cc-view-save"])
        self._overwrite = pn.widgets.Button(label=_("Save over this view"), css_classes=["cc-view-overwrite"])
        self._delete = pn.widgets.Button(label=_("Delete this view"), css_classes=["cc-view-delete"])
        self._message = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10), css_classes=["cc-view-message"])
        self._save.on_click(lambda _e: self._store_view(new=True))
        self._overwrite.on_click(lambda _e: self._store_view(new=False))
        self._delete.on_click(lambda _e: self._delete_view())
        self._open: SavedView | None = None
        self._draw()

    def _views(self) -> list[SavedView]:
        try:
            return self.store.views(user=self.login)
        except CustomerCardError as exc:
            self._say(str(exc), ok=False)
            return []

    @param.depends("view_id", watch=True)
    def _draw(self) -> None:
        views = self._views()
        self._open = next((v for v in views if v.id == self.view_id), None)
        if self._open is not None and self.view_version not in (None, self._open.version):
            # the page shows the view as a bookmark made before it was changed: saving over it would undo that
            # change unseen, so it is saved on the version the bookmark knew (a conflict, said)
            self._open = self._open.copy()
            self._open.version = self.view_version
            self._say(_("“{name}” was changed since this link was made: open it from the menu to see it as it is "
                        "saved now.").format(name=isolated(self._open.name)), ok=False)
        mine = [v for v in views if v.owner == self.login]
        others = [v for v in views if v.owner != self.login]

        def items(group: list[SavedView]) -> str:
            return "".join(
                '<li><a class="cc-view-link" href="{href}"{current}>{name}</a>{shared}</li>'.format(
                    # (a name and an owner's name each kept to itself: a direction control at the end of a view's
                    # name turned "(Erik Nilsson)" after it round)
                    href=esc(view_href(v)), name=esc(isolated(v.name)),
                    current=' aria-current="page"' if v.id == self.view_id else "",
                    shared=f' <span class="cc-muted">({esc(_("shared"))})</span>' if v.shared and v.owner == self.login
                    else f' <span class="cc-muted">({esc(isolated(self.store.user_name(v.owner)))})</span>'
                    if v.owner != self.login else "") for v in group)
        parts = []
        if mine:
            parts.append(f"<h2>{esc(_('My views'))}</h2><ul>{items(mine)}</ul>")
        if others:
            parts.append(f"<h2>{esc(_('Shared views'))}</h2><ul>{items(others)}</ul>")
        if not parts:
            parts.append(f'<p class="cc-muted" style="margin: 4px 10px 8px">{esc(_("No saved views yet."))}</p>')
        title = _("Saved views") + (f": {self._open.name}" if self._open else "")
        self._menu.object = f'<details class="cc-views"><summary>{esc(title)}</summary>{"".join(parts)}</details>'
        may_change = self._open is not None and (self._open.owner == self.login or self.store.can(self.login, "admin"))
        self._overwrite.visible = self._delete.visible = may_change
        if self._open is not None and not self._name.value:
            self._name.value = self._open.name
            self._shared.value = self._open.shared and not self._shared.disabled  # a viewer's copy stays theirs

    def _say(self, text: str, ok: bool = True, focus: bool = False) -> None:
        """The menu's message, said once; with ``focus`` it takes the focus (the button used went away)."""
        color = "#1d7a3c" if ok else "#b42318"
        attrs = live(ok) + (focus_here() if focus else "")
        self._message.object = f'<p style="color:{color}; margin: 2px 0"{attrs}>{esc(text)}</p>'

    @staticmethod
    def _label(view: SavedView, field: str) -> str:
        try:
            return view.label(field)
        except (AttributeError, KeyError):  # not a field of a view (the store's own check)
            return field

    def _store_view(self, new: bool) -> None:
        typed = read_text(self._name.value_input or self._name.value or "", SavedView.param["name"])  # pasted: cleaned
        if new or self._open is None:
            view = SavedView(name=typed, shared=self._shared.value, search=self.search)
        else:
            view = self._open.copy()
            view.param.update(name=typed or view.name, shared=self._shared.value, search=self.search)
        try:
            saved = self.store.save_view(view, user=self.login)
        except ValidationError as exc:  # each problem with what it is about ("Search: At most 2,000 characters.")
            self._say(" ".join(f"{self._label(view, field)}: {text}" for field, text in exc.errors.items()), ok=False)
            return
        except ConflictError:
            self._say(_("Someone changed this view meanwhile: open it again from the menu."), ok=False)
            return
        except PermissionDenied as exc:
            self._say(str(exc), ok=False)
            return
        except NotFound:  # deleted meanwhile (by its owner or an administrator): the search is kept on the page
            self._say(_("This view was deleted meanwhile: nothing was saved. Save the search with “Save as new "
                        "view”."), ok=False)
            self._name.value = typed
            self.view_version = None
            self.view_id = None  # (drawn again: the menu without it)
            return
        self._say(_("Saved the view “{name}”.").format(name=isolated(saved.name)))
        self.view_version = saved.version
        if self.view_id == saved.id:
            self._draw()
        else:
            self.view_id = saved.id

    def _delete_view(self) -> None:
        if self._open is None:
            return
        try:
            self.store.delete_view(self._open.id, user=self.login, expected_version=self._open.version)
        except (ConflictError, PermissionDenied, CustomerCardError) as exc:
            self._say(str(exc) if not isinstance(exc, ConflictError) else
                      _("Someone changed this view meanwhile: open it again from the menu."), ok=False)
            return
        self._say(_("Deleted the view “{name}”.").format(name=isolated(self._open.name)), focus=True)
        self._name.value = ""
        self.view_version = None
        self.view_id = None

    def __panel__(self) -> pn.viewable.Viewable:
        form = pn.Column(self._name, self._shared, pn.FlexBox(self._save, self._overwrite, self._delete),
                         self._message, sizing_mode="stretch_width", css_classes=["cc-view-form"])
        return pn.Column(self._menu, form, sizing_mode="stretch_width")
