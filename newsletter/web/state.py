"""``published.json``: what the web edition has published, kept in git beside the issues.

A calendar app takes a changed event only from a higher ``SEQUENCE`` with a newer
``DTSTAMP``, and a feed reader shows an entry again only when its ``updated`` moves. Both
must come out the same on every machine and after a fresh clone, and must never go
back: so they cannot be worked out from the site (not in git), the journal (local) or
the clock. This file holds them, written by ``newsletter publish`` and ``newsletter
correct``, sorted and indented so a change reads well in a diff:

* per event identity (see :mod:`newsletter.issue.events`): the digest of what a reader's
  calendar shows, its revision number (``SEQUENCE``), when that revision was published
  (``DTSTAMP`` / ``LAST-MODIFIED``; none for the first, whose stamp is the issue's date)
  and the issue it first appeared in;
* per published issue: the digest of its words, when its page last changed (the feed's
  ``updated``), its title, date and summary (the index keeps it even if its file goes),
  the identities of its events, its corrections, and what readers were last told
  (the baseline ``newsletter correct`` describes a change against).

It holds no address and no name of a reader: only what the public site shows.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import Field, ValidationError

from newsletter import yamldoc, yamllimits
from newsletter.errors import InputError, Problem, display_path
from newsletter.fields import StrictModel as _Strict
from newsletter.files import write_if_changed

STATE_FILE = "published.json"
STATE_MAX_BYTES = 64 * 1024 * 1024
"""Largest ``published.json`` read: about 2 KB an issue with its events, so some 30,000
issues (the 1 MB bound of a YAML file held it to about 550)."""
_TOO_LARGE = "publish never writes one this large (about 2 KB an issue): restore it from git, or look for data pasted into it"


class EventSeen(_Strict):
    """An event as readers were told of it, in words (for a correction's note)."""

    title: str
    when: str
    place: str


class EventRecord(_Strict):
    digest: str
    """Hash of what a calendar shows of the event (title, times, place, sign-up link)."""
    sequence: int = Field(default=0, ge=0)
    """The revision: the calendar's ``SEQUENCE``, one more for every published change."""
    modified: dt.datetime | None = None
    """When the revision was published (``DTSTAMP``, ``LAST-MODIFIED``); none for the first."""
    issue: str
    """The issue the event was first published in (its page is the event's page)."""


class Correction(_Strict):
    date: dt.datetime
    """When the correction was made."""
    note: str
    """What changed, as the page shows it."""
    events: list[str] = []
    """The identities of the events it changed (the correction email shows them as they are now)."""


class Baseline(_Strict):
    """The issue as its readers last knew it: when it was first published, or at its last correction."""

    text: str
    """Digest of its words, events left out."""
    events: dict[str, EventSeen] = {}


class IssueRecord(_Strict):
    digest: str
    """Hash of the issue's content (its words and its events)."""
    updated: dt.datetime | None = None
    """When its page last changed (the feed entry's ``updated``); none while it is as first published."""
    title: str
    date: dt.date
    summary: str
    events: list[str] = []
    """The identities of its events, in order."""
    corrections: list[Correction] = []
    baseline: Baseline


class PublishedState(_Strict):
    version: Literal[1] = 1
    issues: dict[str, IssueRecord] = {}
    events: dict[str, EventRecord] = {}


def state_path(root: Path) -> Path:
    return root / STATE_FILE


def read_state(root: Path) -> PublishedState:
    """The project's ``published.json`` (an empty state when there is none); a damaged
    file is an :class:`~newsletter.errors.InputError` naming its line and field."""
    path = state_path(root)
    if not path.is_file():
        return PublishedState()
    name = display_path(path)
    text = yamllimits.read_text(path, name, STATE_MAX_BYTES, _TOO_LARGE)  # a regular UTF-8 file, within its bound
    try:  # the file as written: JSON, read in a millisecond (the YAML reader below takes 30 for 100 issues)
        return PublishedState.model_validate(json.loads(text, object_pairs_hook=_no_repeats))
    except ValueError as exc:  # not JSON, a key given twice, or a value refused (pydantic's errors are ValueErrors)
        if len(text) > yamllimits.MAX_BYTES:  # beyond what the YAML reader takes: said as JSON sees it
            raise _not_json(name, exc) from None
    # JSON is YAML: the YAML reader points each problem at its line and field
    return yamldoc.validate(yamldoc.parse(text, name), PublishedState)


def _not_json(name: str, exc: ValueError) -> InputError:
    """A ``published.json`` too large for the YAML reader that is not what publish wrote."""
    field, message = "", str(exc)
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        field, message = ".".join(str(part) for part in first["loc"]), first["msg"]
    elif isinstance(exc, json.JSONDecodeError):
        message = exc.msg
    return InputError(
        Problem(
            name,
            getattr(exc, "lineno", None),
            getattr(exc, "colno", None),
            field,
            f"not the file publish writes (JSON: {message})",
            "restore it from git (it is kept there with the site)",
        )
    )


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key given twice")
    return found


def dump_state(state: PublishedState) -> bytes:
    """The file's bytes: sorted, indented by two, UTF-8, a newline at the end (byte for byte
    ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)``, at a fortieth of its cost:
    ``tests/test_publish_state.py`` holds the two equal)."""
    data = state.model_dump(mode="json", exclude_defaults=False)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def write_state(root: Path, state: PublishedState, data: bytes | None = None) -> bool:
    """Write ``published.json`` if it changed (synced: it is what makes the next publish right);
    ``data``: the state as :func:`dump_state` gives it, when the caller has it already."""
    return write_if_changed(state_path(root), dump_state(state) if data is None else data)
