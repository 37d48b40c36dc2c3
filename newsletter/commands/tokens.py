"""``newsletter subscribers unsubscribe --token T`` / ``--tokens-from FILE``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from newsletter.audience import Unsubscribed, unsubscribe
from newsletter.delivery.state import load_secret
from newsletter.errors import InputError, Problem, ProblemsFound, display_path
from newsletter.feedback.tokens import given_tokens, match, tokens_from_file
from newsletter.settings import find_project_root

REASON = "unsubscribe link"
SHOW_AT_MOST = 50


@dataclass(frozen=True, slots=True)
class TokenResult:
    results: list[Unsubscribed]
    unmatched: list[str]
    tokens: int
    strict: bool
    """Tokens were given one by one (an unmatched one is an error, not noise in a log)."""


def unsubscribe_tokens(list_path: Path, tokens: tuple[str, ...], tokens_from: Path | None) -> TokenResult:
    if not list_path.is_file():
        raise InputError(
            Problem(display_path(list_path), None, None, "", "subscriber list not found", "give the list with --list PATH")
        )
    wanted = given_tokens(tokens)
    if tokens_from is not None:
        wanted = list(dict.fromkeys([*wanted, *tokens_from_file(tokens_from)]))
    if not wanted:
        raise InputError(
            Problem(
                display_path(tokens_from) if tokens_from else "command line",
                None,
                None,
                "--tokens-from",
                "no unsubscribe token found (32 hexadecimal digits)",
            )
        )
    secret = load_secret(find_project_root(list_path.resolve().parent))
    found = match(list_path, secret, wanted)
    results = unsubscribe(list_path, list(found.emails.values()), REASON) if found.emails else []
    return TokenResult(results, found.unmatched, len(wanted), strict=tokens_from is None)


def show(result: TokenResult, list_file: str) -> None:
    for r in result.results:
        what = {"unsubscribed": "unsubscribed", "already": r.note, "added": r.note}[r.outcome]
        lines = f" (line{'s' if len(r.lines) > 1 else ''} {', '.join(map(str, r.lines))})" if r.lines else ""
        click.echo(f"{list_file}: {r.email}: {what}{lines}")
    for t in result.unmatched[:SHOW_AT_MOST]:
        click.echo(f"  no address in {list_file} has token {t}", err=True)
    if len(result.unmatched) > SHOW_AT_MOST:
        click.echo(f"  … and {len(result.unmatched) - SHOW_AT_MOST:,} more unmatched tokens", err=True)
    n = sum(1 for r in result.results if r.outcome == "unsubscribed")
    click.echo(
        f"{result.tokens} token(s): {n} unsubscribed now, {len(result.results) - n} already, "
        f"{len(result.unmatched)} matched nobody"
    )
    if result.unmatched and result.strict:
        raise ProblemsFound(
            f"{len(result.unmatched)} token(s) match no address in {list_file} "
            "(made with another secret, or for an address no longer in the list)"
        )
