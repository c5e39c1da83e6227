"""A new customer: a form built from the model, validated, with a warning about possible duplicates first."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from ..errors import CustomerCardError, ValidationError
from ..i18n import _
from ..identity import acting_user
from ..models import Customer
from ..store import STORE_TYPES
from .accessibility import BUTTON_CSS, live
from .editor import customer_label
from .form import FieldForm
from .html import SECTION_CSS, esc, link, page_heading

FIELDS = ["name", "nickname", "org_number", "vat_number", "account_manager", "industry", "status",
          "visit_address.line1", "visit_address.postal_code", "visit_address.city", "visit_address.country",
          "phone", "email", "website"]


class NewCustomer(pn.viewable.Viewer):
    """Create a customer; before saving, possible duplicates are listed with links to open one instead."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the customer is created.")
    user = param.String(default=None, allow_None=True, doc="Who creates it.")
    created = param.ClassSelector(class_=Customer, allow_None=True, doc="The customer once created.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.user = self.user or acting_user(self.store)
        self.draft = self.store.new_customer()
        if self.user in self.draft.param.account_manager.objects:
            self.draft.account_manager = self.user
        fields = [f for f in FIELDS if f != "nickname" or self.store.settings().nicknames_enabled]
        self.form = FieldForm(record=self.draft, fields=fields, columns=2, user_name=self.store.user_name,
                              labels={"visit_address.line1": _("Visiting address")})
        self._save = pn.widgets.Button(label=_("Create customer"), color="primary", css_classes=["cc-create"])
        self._anyway = pn.widgets.Button(label=_("Create anyway"), color="warning", css_classes=["cc-create-anyway"],
                                         stylesheets=[BUTTON_CSS],
                                         visible=False)
        self._save.on_click(lambda _e: self.create(check_duplicates=True))
        self._anyway.on_click(lambda _e: self.create(check_duplicates=False))
        self._message = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[SECTION_CSS],
                                     css_classes=["cc-new-message"])
        self._warned: set[int] = set()  # the possible duplicates the warning showed
        # "cc-guarded": leaving the page with typing not created asks first (ui/assets/unsaved.js)
        self._layout = pn.Column(pn.pane.HTML(page_heading(_('New customer')), margin=(0, 10)), self.form,
                                 pn.Row(self._save, self._anyway), self._message, sizing_mode="stretch_width",
                                 max_width=900, css_classes=["cc-new-customer-form", "cc-guarded"])

    def create(self, check_duplicates: bool = True) -> Customer | None:
        """Validate; warn about duplicates (unless told to go on); create. Returns the customer or None."""
        candidate = self.store.new_customer()
        errors = candidate.update_from(self.form.values())
        errors.update(candidate.validate(self.store.choices()))
        if self._refused(errors):
            return None
        duplicates = self.store.possible_duplicates(name=candidate.name, org_number=candidate.org_number,
                                                    vat_number=candidate.vat_number, nickname=candidate.nickname)
        # "Create anyway" goes on past the customers it was shown with only: the form changed since (another
        # name, another organisation number) may name others, and they are shown first
        unseen = set(duplicates["id"].astype(int)) - (set() if check_duplicates else self._warned)
        if unseen:
            self._warn(duplicates)
            return None
        try:
            created = self.store.create_customer(candidate, user=self.user)
        except ValidationError as exc:
            self._refused(exc.errors)
            return None
        except CustomerCardError as exc:
            self._say(str(exc), ok=False)
            return None
        # what was typed is stored: the served page moves on to the new card (a watcher of `created`) unasked
        self._layout.css_classes = [*self._layout.css_classes, "cc-saved"]
        self.created = created
        self._anyway.visible = False
        self._message.object = (f'<p class="ok" id="cc-created"{live()}>{esc(_("Created"))} '
                                f'{link(f"/card?customer={self.created.id}", self.created.name)} '
                                f'({esc(self.created.number)}).</p>')
        return self.created

    def _warn(self, duplicates) -> None:
        items = "".join(f'<li>{link(f"/card?customer={int(d.id)}", d.name)} ({esc(d.number)}'
                        f'{", " + esc(d.city) if d.city else ""}) — {esc(d.reason)}</li>'
                        for d in duplicates.itertuples(index=False))
        # said at once (a screen reader heard nothing, and no customer was made), the focus left on Create
        self._message.object = (f'<div class="cc-duplicates" id="cc-duplicates"{live(False)}><p><b>'
                                f'{esc(_("This customer may exist already:"))}</b></p><ul>{items}</ul>'
                                f'<p>{esc(_("Open one of them, or create the new customer anyway."))}</p></div>')
        self._anyway.visible = True
        self._warned = set(duplicates["id"].astype(int))

    def _refused(self, errors: dict[str, str]) -> bool:
        """Each message under its field; one for a field this form does not show (a new customer's invoice address
        takes the firm's country) said in the message, after its label. True when there were any."""
        rest = self.form.show_errors(errors)
        if errors:
            self._say(" ".join([_("Please correct the marked fields."),
                                *(f"{customer_label(self.draft, field)}: {text}" for field, text in rest.items())]),
                      ok=False)
        return bool(errors)

    def _say(self, text: str, ok: bool) -> None:
        color = "#1d7a3c" if ok else "#b42318"
        self._message.object = f'<p style="color:{color}"{live(ok)} class="cc-message-text">{esc(text)}</p>'
        self._anyway.visible = False

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
