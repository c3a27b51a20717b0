"""Admission for answers: a per-user cap, a global queue limit and a fixed number running at once.

A request over a cap is refused at once with :class:`Busy` (how many questions are ahead), instead of
waiting behind the others; an admitted one waits its turn in arrival order and can report its place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class Busy(Exception):
    """Refused: ``ahead`` questions are in flight; ``own`` is True when the user's own cap was hit."""

    def __init__(self, ahead: int, own: bool) -> None:
        self.ahead, self.own = ahead, own
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line for the user."""
        ahead = f"{self.ahead} question{'s' if self.ahead != 1 else ''} ahead of yours"
        if self.own:
            return f"Busy: your previous question is still being answered ({ahead}); try again when it is done."
        return f"Busy: {ahead}; try again shortly."


@dataclass(eq=False)
class Ticket:
    """One admitted answer."""

    user: str


class Gate:
    """Counts answers in flight per user and overall; the first ``running`` of them may run."""

    def __init__(self, per_user: int, queue_size: int, running: int) -> None:
        self.per_user, self.queue_size, self.running = per_user, queue_size, running
        self._tickets: list[Ticket] = []  # in arrival order; the first ``running`` are running
        self._cond = threading.Condition()

    def in_flight(self, user: str | None = None) -> int:
        """Answers admitted and not finished (for one user, or all)."""
        with self._cond:
            return sum(1 for t in self._tickets if user is None or t.user == user)

    def ahead(self, ticket: Ticket) -> int:
        """How many admitted answers are before ``ticket``."""
        with self._cond:
            return self._tickets.index(ticket)

    def wait_turn(self, ticket: Ticket, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``ticket`` to be among the running; True when it is."""
        with self._cond:
            return self._cond.wait_for(lambda: self._tickets.index(ticket) < self.running, timeout)

    @contextmanager
    def enter(self, user: str) -> Iterator[Ticket]:
        """Admit one answer for ``user`` for the duration of the block; raises :class:`Busy` when full."""
        with self._cond:
            mine = sum(1 for t in self._tickets if t.user == user)
            if mine >= self.per_user or len(self._tickets) >= self.queue_size:
                raise Busy(len(self._tickets), own=mine >= self.per_user)
            ticket = Ticket(user)
            self._tickets.append(ticket)
        try:
            yield ticket
        finally:
            with self._cond:
                self._tickets.remove(ticket)
                self._cond.notify_all()
