"""Unsubscribe tokens back into addresses.

A token is a keyed hash of the address (:func:`newsletter.delivery.state.unsubscribe_token`):
it cannot be reversed, so the list is read once and each address's token made with the
project's secret; the tokens asked about are looked up in that table. Tokens are found
in any text (a form export, a web server's log): every run of exactly 32 hexadecimal
digits is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.csvfile import open_list, unneutralize
from newsletter.audience.validate import Address, check_address
from newsletter.delivery.state import token_maker
from newsletter.errors import InputError, Problem, display_path

TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?![0-9A-Za-z])")
"""A token standing alone: not part of a longer run of letters and digits (a hash, an id)."""


@dataclass(slots=True)
class Matched:
    emails: dict[str, str] = field(default_factory=dict)
    """token → the address it was made for."""
    unmatched: list[str] = field(default_factory=list)
    """Tokens that no address in the list makes (in the order given)."""


def tokens_in(text: str) -> list[str]:
    """Every token in ``text``, lower-cased, once each, in order of first appearance."""
    return list(dict.fromkeys(m.group(0).lower() for m in TOKEN.finditer(text)))


def tokens_from_file(path: Path) -> list[str]:
    shown = display_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem(shown, None, None, "--tokens-from", "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(shown, None, None, "--tokens-from", "is a folder, not a file")) from None
    except OSError as exc:
        raise InputError(Problem(shown, None, None, "--tokens-from", f"cannot read: {exc.strerror}")) from None
    return tokens_in(data.decode("utf-8", "replace"))


def given_tokens(raw: Iterable[str]) -> list[str]:
    """Tokens from ``--token``: each must be one token (all bad ones reported at once)."""
    found: list[str] = []
    problems = []
    for t in raw:
        text = t.strip()
        if TOKEN.fullmatch(text):
            found.append(text.lower())
        else:
            problems.append(Problem("command line", None, None, "--token",
                                    f"{t!r} is not a token (32 hexadecimal digits, as in the unsubscribe link)"))
    if problems:
        raise InputError(problems, summary="not unsubscribe tokens; the list was not changed")
    return list(dict.fromkeys(found))


def match(list_path: Path, secret: bytes, tokens: list[str]) -> Matched:
    """Which address of the list each token was made for (one streamed read)."""
    wanted = set(tokens)
    token = token_maker(secret)
    hits: dict[str, str] = {}
    with open_list(list_path) as reader:
        email_at = reader.header.roles["email"]
        for _line, cells, problem in reader.records():
            if problem is not None or len(hits) == len(wanted):
                continue
            raw = unneutralize(cells[email_at])
            checked = check_address(raw)
            if not isinstance(checked, Address):
                continue
            # the link was made from the address as sent (normalised), lower-cased by the token
            t = token(checked.normalized)
            if t in wanted and t not in hits:
                hits[t] = checked.normalized
    result = Matched()
    for t in tokens:
        if t in hits:
            result.emails[t] = hits[t]
        else:
            result.unmatched.append(t)
    return result
