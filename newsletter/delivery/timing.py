"""When a send's messages go: at once, at one moment (``--send-at``), or at an hour in
each reader's zone (``--at HH:MM --local``). The journal keeps it with the send, and the
send record with it, so that a resumed send keeps it.

A send that stopped part-way and is run again without a time is resumed at the time it
began with (the readers already accepted have it for then: the others join them); run
again with another time, it is refused before anything is sent. Before the journal kept
it (format 3), a send's time is not known: such a send resumes as it is asked to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from newsletter.delivery.localtime import LocalRule, Past
from newsletter.errors import UsageError


@dataclass(frozen=True, slots=True)
class Timing:
    send_at: int | None = None
    """One moment for every reader (Unix seconds), or None."""
    local: LocalRule | None = None
    """An hour in each reader's zone, or None."""

    @property
    def at_once(self) -> bool:
        return self.send_at is None and self.local is None

    def text(self) -> str:
        """As the journal and the send record keep it: ``now``, ``at 1765105200``, or
        ``local 09:00:00 - next Europe/London`` (the hour, the first date or ``-``, what a
        reader whose hour has gone gets, the zone of a reader without one)."""
        if self.local is not None:
            rule = self.local
            day = rule.date.isoformat() if rule.date is not None else "-"
            return f"local {rule.at.isoformat()} {day} {rule.past} {rule.default_zone}"
        return "now" if self.send_at is None else f"at {self.send_at}"

    @classmethod
    def parse(cls, text: str) -> Timing | None:
        """A kept timing; None for one this version cannot read (it then asks nothing of a resume)."""
        parts = text.split()
        try:
            if parts == ["now"]:
                return cls()
            if len(parts) == 2 and parts[0] == "at":
                return cls(send_at=int(parts[1]))
            if len(parts) == 5 and parts[0] == "local" and parts[3] in ("next", "now"):
                day = None if parts[2] == "-" else dt.date.fromisoformat(parts[2])
                past: Past = "now" if parts[3] == "now" else "next"
                return cls(local=LocalRule(dt.time.fromisoformat(parts[1]), day, past, parts[4]))
        except ValueError:
            return None
        return None


def began_otherwise(stored: str | None, asked: Timing) -> Timing | None:
    """The timing a resumed send began with (``stored``), when it is known and is not the
    one this run asks for; None: the run goes on as asked."""
    began = Timing.parse(stored) if stored is not None else None
    return None if began is None or began == asked else began


def kept(began: Timing, asked: Timing, *, accepted: int, words: str) -> Timing:
    """The timing a resumed send goes on with, when it ``began`` with another than the one
    ``asked`` for (:func:`began_otherwise`): that one when the run asks for none; a run that
    asks for another is refused (exit 2, nothing sent). ``words``: ``began`` as the editor reads it."""
    if asked.at_once:
        return began
    if began.at_once:
        raise UsageError(
            f"this send began to go at once ({accepted} already accepted); run it again without "
            "--send-at or --at to send the rest now as well. Nothing was sent"
        )
    raise UsageError(
        f"this send was scheduled {words} when it began ({accepted} already accepted for then); run it "
        "again without --send-at or --at and the rest keeps that time, or cancel it first "
        "(newsletter cancel) to send at another. Nothing was sent"
    )
