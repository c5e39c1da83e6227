"""What every part of the store is: :class:`Part`.

The store (:class:`customercard.store.Store`) is a thin front over parts, one per subject — the admin lists and
users, customers, the search index, the outbox, people, CRM, … Each part is given the database (a
:class:`~customercard.store.backend.Backend`) and the parts it uses, by name (its :attr:`Part.uses`); it reaches
nothing else. The front offers every public method of every part under the same name (one definition, one
signature, one docstring), but those a part keeps for the other parts (its :attr:`Part.internal`).
"""

from __future__ import annotations

import inspect
from typing import ClassVar

from .backend import Backend


class Part:
    """One subject's reads and writes, given the backend and the parts it uses."""

    #: The parts this one uses, by the name it holds each under (the part's module: ``admin``, ``customers`` …).
    uses: ClassVar[tuple[str, ...]] = ()
    #: Public methods other parts call that the store's front does not offer.
    internal: ClassVar[frozenset[str]] = frozenset()
    db: Backend

    def __init__(self, db: Backend, **parts: Part) -> None:
        if set(parts) != set(self.uses):
            raise TypeError(f"{type(self).__name__} uses {', '.join(self.uses) or 'no other part'}; "
                            f"it was given {', '.join(sorted(parts)) or 'none'}")
        self.db = db
        for name, part in parts.items():
            setattr(self, name, part)

    @classmethod
    def offered(cls) -> list[str]:
        """The names of the public methods the store's front offers for this part (its own, in order)."""
        return [name for name, value in vars(cls).items()
                if not name.startswith("_") and name not in cls.internal and inspect.isfunction(value)]
