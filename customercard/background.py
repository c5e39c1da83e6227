"""The server's background rounds: :class:`Rounds`, a daemon thread doing one round every few seconds until it is
stopped (the outbox's delivery, :class:`~customercard.integration.OutboxWorker`; the follow-up reminders,
:class:`~customercard.reminders.ReminderScheduler`)."""

from __future__ import annotations

import abc
import logging
import threading
from typing import Any, ClassVar, Self

log = logging.getLogger(__name__)


class Rounds(abc.ABC):
    """A daemon thread calling :meth:`run_once` every :attr:`interval` seconds until :meth:`stop`. A round that
    fails is logged and the next one runs (the database was busy or gone for a moment); :attr:`rounds` counts them."""

    #: The thread's name, and what the log says when a round fails.
    thread_name: ClassVar[str] = "customercard-rounds"
    failure: ClassVar[str] = "A background round failed"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @abc.abstractmethod
    def run_once(self) -> Any:
        """One round: what each kind of rounds does."""

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception(self.failure)
            self.rounds += 1
            self._stop.wait(self.interval)
