"""An issue's results: SendGrid's statistics for its category into ``results/<slug>.json``.

Every send of an issue carries the issue's slug as its first category, so SendGrid's
category statistics (``/v3/categories/stats``, by day) are the issue's figures. The
days read start on the day of the issue's first send (from the journal, or ``since``)
and run for :data:`DAYS` days or to today. The file holds only what SendGrid said, with
sorted keys and no time of fetching: the same figures give the same bytes, so it can
be committed and its changes read in a diff.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError, UsageError, display_path
from newsletter.feedback.account import TIMEOUT, SendGridError, call, client
from newsletter.files import write_file

RESULTS_DIR = "results"
DAYS = 30
METRICS = ("requests", "delivered", "bounces", "opens", "unique_opens", "clicks", "unique_clicks", "spam_reports", "unsubscribes")
"""The figures kept, in the order they are shown."""


@dataclass(frozen=True, slots=True)
class Results:
    slug: str
    start: str
    end: str
    days: tuple[dict[str, Any], ...]
    """One dict per day: ``date`` and each of :data:`METRICS`."""

    @property
    def totals(self) -> dict[str, int]:
        return {m: sum(int(d[m]) for d in self.days) for m in METRICS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.slug,
            "start_date": self.start,
            "end_date": self.end,
            "days": list(self.days),
            "totals": self.totals,
        }


def path_for(root: Path, slug: str) -> Path:
    return root / RESULTS_DIR / f"{slug}.json"


def first_send_day(root: Path, slug: str, timezone: str) -> dt.date | None:
    """The day (in the newsletter's zone) the issue's first SendGrid send began, from the journal."""
    from zoneinfo import ZoneInfo

    from newsletter.delivery.journal_read import open_existing

    journal = open_existing(root)
    if journal is None:
        return None
    try:
        sends = [s for s in journal.sends_for(slug) if s.provider == "sendgrid"]
    finally:
        journal.close()
    if not sends:
        return None
    first = min(s.created for s in sends)
    return dt.datetime.fromtimestamp(first, ZoneInfo(timezone)).date()


def fetch(slug: str, start: dt.date, *, today: dt.date | None = None, timeout: float = TIMEOUT) -> Results:
    """Read the category's figures by day from ``start`` for :data:`DAYS` days (or to today)."""
    today = today or dt.datetime.now(dt.UTC).date()
    if start > today:
        raise UsageError(f"--since {start.isoformat()} is in the future")
    end = min(start + dt.timedelta(days=DAYS - 1), today)
    sg = client(timeout)
    params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "categories": slug, "aggregated_by": "day"}
    answer = call(
        f"reading SendGrid's statistics for category {slug!r}", lambda: sg.client.categories.stats.get(query_params=params)
    )
    if not isinstance(answer, list):
        raise SendGridError(f"reading statistics for {slug!r}: SendGrid's answer is not a list of days")
    days = []
    for day in answer:
        if not isinstance(day, dict) or not isinstance(day.get("date"), str):
            raise SendGridError(f"reading statistics for {slug!r}: a day without a date in SendGrid's answer")
        figures = dict.fromkeys(METRICS, 0)
        for stat in day.get("stats") or []:
            if isinstance(stat, dict) and stat.get("name", slug) == slug:
                metrics = stat.get("metrics") or {}
                for m in METRICS:
                    figures[m] += int(metrics.get(m) or 0)
        days.append({"date": day["date"], **figures})
    days.sort(key=lambda d: d["date"])
    return Results(slug, start.isoformat(), end.isoformat(), tuple(days))


def write(root: Path, results: Results) -> Path:
    """``results/<slug>.json``, written whole or not at all; byte-identical for the same figures."""
    path = path_for(root, results.slug)
    text = json.dumps(results.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        write_file(path, text)
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot write: {exc.strerror}") from None
    return path


def read(root: Path, slug: str) -> dict[str, Any] | None:
    """The saved results of an issue (for the preview), or None when there are none or they
    cannot be read."""
    path = path_for(root, slug)
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("days"), list):
        return None
    return data
