"""What every section of a card shares: the store, the customer, who is looking, and the firm's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import param

from ..errors import NotFound
from ..identity import acting_user
from ..models import Customer, Settings, User
from ..store import STORE_TYPES, Store


class CardContext(param.Parameterized):
    """The customer shown, the acting user and their rights; sections read it, saves go through it."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="The store the customer comes from.")
    customer = param.ClassSelector(class_=Customer, doc="The customer shown (a param object).")
    login = param.String(default="", doc="Who is looking and acting.")
    user = param.ClassSelector(class_=User, allow_None=True, doc="The acting user, if known to the store.")
    settings = param.ClassSelector(class_=Settings, doc="The firm's settings for the customer module.")
    saved = param.Event(doc="Triggered after every save, so sections redraw what they show.")
    saving_now = param.Boolean(default=False, doc="A section of this card is saving the customer: changes heard "
                                                 "meanwhile are shown once the save has shown its own result.")
    opened = param.Parameter(default=None, doc="(section key, record id): a section asks the card to show a record "
                                               "in the section that keeps it (the Activity section's links).")

    @classmethod
    def load(cls, store: Store, customer_id: int, login: str | None = None) -> CardContext:
        login = login or acting_user(store)
        try:
            user = store.get_user(login)
        except NotFound:
            user = None
        return cls(store=store, customer=store.get_customer(customer_id), login=login, user=user,
                   settings=store.settings())

    @property
    def can_edit(self) -> bool:
        """Whether the user may write, and the customer is not one merged into another (kept as its pointer)."""
        return self.store.can(self.login, "write") and not self.customer.merged_into

    @property
    def projects_access(self) -> bool:
        return bool(self.user and self.user.active and self.user.projects_access)

    @property
    def as_of(self) -> dt.date | None:
        """The day the card shows the customer as it was at the end of (read only); None: today."""
        day = getattr(self.store, "day", None)
        return day if isinstance(day, dt.date) else None

    @property
    def zone(self) -> str:
        """The firm's time zone: stored times are shown in it."""
        return self.settings.time_zone

    @contextmanager
    def saving(self) -> Iterator[None]:
        """Around a section's save of the customer: the save's own change, heard before the save returns (at once
        outside a server), is not taken as someone else's; the card shows what it heard meanwhile afterwards."""
        if self.saving_now:
            yield
            return
        self.saving_now = True
        try:
            yield
        finally:
            self.saving_now = False

    def reload(self) -> None:
        """Take the stored customer again (after someone else's save, or a restore)."""
        fresh = self.store.get_customer(self.customer.id)
        self.adopt(fresh)

    def adopt(self, saved: Customer) -> None:
        """Make the shown customer equal to ``saved`` (keeping the same object, so watchers stay)."""
        values = saved.values()
        self._adopting = True
        for name in ("version", "updated_at", "updated_by", "created_at", "created_by", "number",
                     "erp_system", "erp_customer_id", "erp_synced_at", "merged_into"):
            values[name] = saved.get(name)
        try:
            self.customer.update_from(values)
            self.customer.apply_choices(self.store.choices())
        finally:
            self._adopting = False
        self.param.trigger("saved")
