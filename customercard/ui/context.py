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
        context = cls(store=store, customer=store.get_customer(customer_id), login=login, user=user,
                      settings=store.settings())
        context.remember_stored()
        return context

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

    def stored_values(self) -> dict[str, object]:
        """The customer's fields as last read from or saved to the store (what unsaved edits are told against)."""
        found = self.__dict__.get("_stored_values")
        return dict(found) if found is not None else self.customer.values()

    def remember_stored(self) -> None:
        """The customer as shown is what is stored now (after its own save)."""
        self._stored_values = self.customer.values()

    def unsaved(self) -> dict[str, object]:
        """The fields of :attr:`customer` set here (a notebook's ``card.customer.phone = …``) and not saved yet."""
        stored = self.stored_values()
        return {field: value for field, value in self.customer.values().items() if stored.get(field) != value}

    def take_stored(self) -> bool:
        """After someone else's save: show what is stored now. Fields set here and not saved stay set, on top of it,
        when the other save changed none of them (the next save writes them over theirs); when it changed one of
        them too, nothing is taken (the next save meets the conflict, with both values). False then."""
        mine = self.unsaved()
        fresh = self.store.get_customer(self.customer.id)
        if mine:
            before, now = self.stored_values(), fresh.values()
            theirs = {field for field, value in now.items() if before.get(field) != value}
            if theirs & set(mine):
                return False
        self.adopt(fresh, keep=mine, only_changed=True)
        return True

    def adopt(self, saved: Customer, keep: dict[str, object] | None = None, only_changed: bool = False) -> None:
        """Make the shown customer equal to ``saved`` (keeping the same object, so watchers stay) — with the fields
        of ``keep`` (unsaved edits) set on top in the same update: nobody reading the customer meanwhile (another
        thread, a watcher) sees them gone. ``only_changed``: set only the fields ``saved`` changed since what was
        stored (someone else's save, heard on another thread): a field set here meanwhile — a notebook's
        ``card.customer.city = …`` while the change was being taken, or the late news of its own save — stays."""
        values = saved.values()
        stored = dict(values)
        if only_changed:
            before = self.stored_values()
            values = {field: value for field, value in values.items() if before.get(field) != value}
        self._adopting = True
        for name in ("version", "updated_at", "updated_by", "created_at", "created_by", "number",
                     "erp_system", "erp_customer_id", "erp_synced_at", "merged_into"):
            values[name] = saved.get(name)
        values.update(keep or {})
        try:
            self.customer.update_from(values)
            self.customer.apply_choices(self.store.choices())
        finally:
            self._adopting = False
        if only_changed:  # what is stored now, whatever the customer shown holds on top of it
            self._stored_values = stored
        else:
            self.remember_stored()
        if keep:  # what is stored is theirs: the kept fields stay unsaved edits
            self._stored_values = {**self._stored_values, **{field: stored.get(field) for field in keep}}
        self.param.trigger("saved")
