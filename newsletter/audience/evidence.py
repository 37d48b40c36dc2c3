"""Evidence of consent: where a person signed up, when, and the wording they agreed to.

Three optional list columns hold it (GDPR Art. 7(1): the sender must be able to show
that the person agreed):

``consent_source``
    where they signed up, in words or as a link (``https://example.org/join``,
    ``June fair sign-up sheet``): one line of text.
``consent_at``
    when: an ISO 8601 date or date and time (``2024-06-03``, ``2024-06-03T14:05:00Z``),
    not in the future.
``consent_wording``
    which sign-up wording they saw: a file in the project's git repository at a commit,
    ``PATH@COMMIT`` (``signup/form.md@3f2a1c9``), as ``git show COMMIT:PATH`` names it.

The cells are kept exactly as written: every rewrite of the list (import, unsubscribe,
sync, forget) writes them back byte for byte. With ``consent: required`` in
``newsletter.yaml`` a subscriber whose row lacks any of the three, or holds one that is
not as described, is *held back*: not sent to, and named by ``subscribers check`` and
``newsletter check`` at their line (:func:`problem` says why).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from newsletter.errors import Problem, display_path
from newsletter.gitrepo import git_raw

COLUMNS = ("consent_source", "consent_at", "consent_wording")
"""The evidence columns, in the order they are checked."""
MAX_SOURCE = 2000
MAX_WORDINGS = 1000
"""Distinct ``consent_wording`` values :func:`wording_files` looks up (a list names a few)."""
GIT_TIMEOUT = 30.0
UNCHECKED = "consent_wording (not checked)"
"""The field of the problem that says git could not be asked."""
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_WORDING = re.compile(r"(?P<path>[^@\s\\][^@\\]*)@(?P<commit>[0-9a-f]{7,40})")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
HINT = (
    "write where they signed up (consent_source), when (consent_at, e.g. 2024-06-03) and the sign-up wording "
    "they saw (consent_wording, PATH@COMMIT of a file in the repository), or remove the row"
)


def when_problem(value: str, today: dt.date) -> str | None:
    """Why a ``consent_at`` cell is not a date of consent, or None."""
    text = value.strip()
    if not text:
        return "consent_at is empty: when did this person agree?"
    if _WHEN.fullmatch(text) is None:
        return f"consent_at {value!r} is not a date (write it as 2024-06-03 or 2024-06-03T14:05:00Z)"
    try:
        day = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date() if len(text) > 10 else dt.date.fromisoformat(text)
    except ValueError:
        return f"consent_at {value!r} is not a date that exists"
    if day > today + dt.timedelta(days=1):
        return f"consent_at {value!r} is in the future"
    return None


def wording_problem(value: str) -> str | None:
    """Why a ``consent_wording`` cell does not name a file at a commit, or None."""
    text = value.strip()
    if not text:
        return "consent_wording is empty: which sign-up wording did this person agree to?"
    found = _WORDING.fullmatch(text)
    if found is None:
        return f"consent_wording {value!r} does not name a file at a commit (write PATH@COMMIT, e.g. signup/form.md@3f2a1c9)"
    path = found.group("path")
    if path.startswith("/") or ".." in path.split("/"):
        return f"consent_wording {value!r}: the path must be inside the repository (no leading / and no ..)"
    return None


def source_problem(value: str) -> str | None:
    """Why a ``consent_source`` cell does not say where the person signed up, or None."""
    text = value.strip()
    if not text:
        return "consent_source is empty: where did this person sign up?"
    if _CONTROL.search(text) is not None:
        return "consent_source holds a line break or control character: write it on one line"
    if len(text) > MAX_SOURCE:
        return f"consent_source is {len(text):,} characters long (at most {MAX_SOURCE:,})"
    return None


class Checker:
    """Checks the evidence cells of rows, remembering the verdict on each value (lists
    repeat their sources, dates and wordings: a row with evidence costs three look-ups)."""

    def __init__(self, at: Sequence[int | None], today: dt.date | None = None) -> None:
        self.at = tuple(at)
        """The index of each of :data:`COLUMNS` in the row, or None when the list has no such column."""
        day = today or dt.date.today()
        self._checks: tuple[Callable[[str], str | None], ...] = (source_problem, lambda v: when_problem(v, day), wording_problem)
        self._known: tuple[dict[str, str | None], ...] = ({}, {}, {})
        self._whole = None not in self.at

    def __call__(self, cells: Sequence[str]) -> tuple[str, str] | None:
        """(column, why) for a row without evidence, or None when it has all three."""
        if self._whole:
            known = self._known
            src, when, wording = self.at
            a, b, c = cells[src], cells[when], cells[wording]  # type: ignore[index]
            if known[0].get(a, "") is None and known[1].get(b, "") is None and known[2].get(c, "") is None:
                return None  # the common case: three values seen before, each fine
        return self._lacks(cells)

    def _lacks(self, cells: Sequence[str]) -> tuple[str, str] | None:
        if all(i is None for i in self.at):
            return COLUMNS[0], "no evidence of consent: the list has no consent_source, consent_at or consent_wording column"
        values = [cells[i] if i is not None else "" for i in self.at]
        if not any(v.strip() for v in values):
            return COLUMNS[0], "no evidence of consent (consent_source, consent_at and consent_wording are empty)"
        for name, value, known, check in zip(COLUMNS, values, self._known, self._checks, strict=True):
            why = known.get(value, "")
            if why == "":
                why = known[value] = check(value)
            if why is not None:
                return name, why
        return None


def columns_at(roles: dict[str, int]) -> list[int | None]:
    """Where each evidence column is among a header's roles."""
    return [roles.get(name) for name in COLUMNS]


def wording_files(list_path: Path, root: Path) -> list[Problem]:
    """Each distinct ``consent_wording`` of the list that git cannot show (``git show
    COMMIT:PATH`` would fail), at the first line that names it: the wording those people
    agreed to could not be shown. One ``git cat-file --batch-check`` for them all, with a
    timeout; a list without the column, or no wording in the right form, asks nothing.
    Where git cannot answer at all (no repository, no git), one problem whose field is
    :data:`UNCHECKED` says so."""
    from newsletter.audience.csvfile import open_list

    first: dict[str, int] = {}
    with open_list(list_path) as reader:
        at = reader.header.roles.get("consent_wording")
        if at is None:
            return []
        for record in reader.records():
            if record.problem is None and at < len(record.cells):
                value = record.cells[at].strip()
                if value not in first and _WORDING.fullmatch(value) and wording_problem(value) is None:
                    first[value] = record.line
                    if len(first) >= MAX_WORDINGS:
                        break
    if not first:
        return []
    shown = display_path(list_path)
    names = list(first)
    asked = "".join(
        f"{_WORDING.fullmatch(v).group('commit')}:{_WORDING.fullmatch(v).group('path')}\n"  # type: ignore[union-attr]
        for v in names
    )
    done = git_raw(root, "cat-file", "--batch-check", input=asked.encode("utf-8"), timeout=GIT_TIMEOUT)
    if done.code in (124, 127):  # git did not answer, or is not here
        return [
            Problem(
                shown,
                first[names[0]],
                None,
                UNCHECKED,
                f"the sign-up wordings could not be looked up in git ({done.err})",
                "run subscribers check where git and the repository are",
            )
        ]
    answers = done.out.decode("utf-8", "replace").splitlines()
    if not done.ok or len(answers) != len(names):
        why = done.err.strip().splitlines()[:1] or ["no answer"]
        return [
            Problem(
                shown,
                first[names[0]],
                None,
                UNCHECKED,
                f"the sign-up wordings could not be looked up in git: {why[0][:200]}",
                "run subscribers check in the project's git repository (a full clone)",
            )
        ]
    return [
        Problem(
            shown,
            first[value],
            None,
            "consent_wording",
            f"consent_wording {value!r}: git has no such file at that commit, so the wording these "
            "people agreed to cannot be shown",
            "commit the sign-up wording and name it as PATH@COMMIT (git log -- PATH shows its commits)",
        )
        for value, answer in zip(names, answers, strict=True)
        if not answer.endswith(" blob") and " blob " not in answer
    ]
