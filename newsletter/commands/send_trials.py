"""Every way to try a send before the real one: the dry run, the test send and SendGrid's
sandbox validation. None of them is recorded in the journal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import orjson

from newsletter.commands.send_hooks import gate_errors
from newsletter.delivery import progress as out
from newsletter.delivery.base import Attempt, BatchResult, Message, Provider, Recipient, Rejected, RetryLater, Unknown
from newsletter.delivery.plan import SubscriberLike, make_message, recipient_for
from newsletter.delivery.progress import Reporter
from newsletter.delivery.providers import make_provider, outbox_folder, traits
from newsletter.delivery.run import backoff
from newsletter.delivery.session import only_files_line
from newsletter.delivery.state import load_secret
from newsletter.errors import ProblemsFound, UsageError, display_path
from newsletter.files import write_file
from newsletter.render.pipeline import Rendered
from newsletter.settings import Settings

if TYPE_CHECKING:
    from newsletter.delivery.session import Context

SAMPLES = 3


# -- dry run ---------------------------------------------------------------------------


def dry_run(ctx: Context, send_at: int | None, r: Reporter) -> None:
    """Everything but delivery, without any network connection."""
    from newsletter.delivery.mime import MimeBuilder
    from newsletter.delivery.outbox import write_eml
    from newsletter.delivery.sendgrid import PayloadBuilder

    summary = ctx.summary()
    out.print_audience(r, summary, display_path(ctx.list_path))
    size = ctx.settings.delivery.batch_size
    one_by_one = traits(ctx.provider).message_by_message
    requests = summary.eligible if one_by_one else math.ceil(summary.eligible / size)
    what = f"{requests} message(s)" if one_by_one else f"{requests} request(s) of up to {size}"
    r.say(f"Would send with {ctx.provider}: {what}")
    secret = load_secret(ctx.root)
    date = dt.datetime.combine(ctx.issue_file.issue.date, dt.time(9), ZoneInfo(ctx.settings.timezone))
    message = make_message(ctx.rendered, ctx.settings, send_id=f"{ctx.rendered.slug}-dry-run", send_at=send_at, date=date)
    language_of = _language_of(ctx)  # each reader greeted in the language of the email they get
    first = [
        recipient_for(s, ctx.settings, secret, seq=i, language=language_of(s))
        for i, s in enumerate(islice(ctx.subscribers(), size), 1)
    ]
    folder = ctx.root / "build" / "dry-run" / ctx.rendered.slug
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in folder.iterdir():
        if old.suffix in (".json", ".eml"):
            old.unlink()
    people = list(islice(ctx.subscribers(), size))
    samples = list(zip(first[:SAMPLES], people, strict=False))
    if first and ctx.issue_file.languages:  # the first request holds readers of the first one's language
        own = language_of(people[0])
        first = [rc for rc, person in zip(first, people, strict=True) if language_of(person) == own]
        message = make_message(
            _in_language_of(ctx, people[0]), ctx.settings, send_id=f"{ctx.rendered.slug}-dry-run", send_at=send_at, date=date
        )
        _print_languages(ctx, r)
    if first:
        payload = PayloadBuilder(message, ctx.settings.delivery.sendgrid).as_dict(first)
        write_file(folder / "request-1.json", orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n", personal=True)
        renders: dict[str, Rendered] = {}
        for sample, person in samples:
            own_message = message
            if ctx.issue_file.languages:  # each sample in its reader's language
                own_message = make_message(
                    _in_language_of(ctx, person, renders),
                    ctx.settings,
                    send_id=f"{ctx.rendered.slug}-dry-run",
                    send_at=send_at,
                    date=date,
                )
            write_eml(folder / f"sample-{sample.seq}.eml", MimeBuilder(own_message).build(sample))
    r.say(f"Wrote the first request's payload and {len(samples)} sample message(s) to {display_path(folder)}/")
    issue = display_path(ctx.issue_file.path)
    errors, _ = gate_errors(ctx, r)
    if errors:
        raise ProblemsFound(
            f"Dry run: nothing was sent. The real send would refuse: {errors} check error(s) "
            f"above (newsletter check {issue} shows them all, with hints)"
        )
    r.say(f"Dry run: nothing was sent. Next, send yourself a test: newsletter send {issue} --test-to you@example.org")


def _print_languages(ctx: Context, r: Reporter) -> None:
    """How many readers get each language, and how many the default instead of theirs."""
    from newsletter.delivery.languages import LanguageTally, tag_entries

    languages = ctx.issue_file.languages
    tally = LanguageTally(languages[0])
    for _ in tag_entries(ctx.entries(), languages, languages[0], tally):
        pass
    for line in tally.lines():
        r.say(line)


# -- test send ---------------------------------------------------------------------------


def test_send(ctx: Context, test_to: Sequence[str], as_email: str | None, r: Reporter) -> None:
    """A real send to a few addresses, marked as a test, not recorded as the issue's send."""
    from pydantic import TypeAdapter, ValidationError

    from newsletter.fields import Email

    check = TypeAdapter(Email)
    addresses: list[str] = []
    for addr in test_to:
        try:
            addresses.append(check.validate_python(addr))
        except ValidationError:
            raise UsageError(f"--test-to '{addr}' is not a valid email address") from None
    person = _sample_subscriber(ctx, as_email)
    secret = load_secret(ctx.root)
    rendered = _in_language_of(ctx, person)
    message = make_message(rendered, ctx.settings, send_id=f"{ctx.rendered.slug}-test", test=True)
    recipients = [
        recipient_for(person, ctx.settings, secret, seq=i, email=a, language=rendered.language or "")
        for i, a in enumerate(addresses, 1)
    ]
    provider = make_provider(ctx.provider, ctx.settings, ctx.root, folder=f"{ctx.rendered.slug}-test")
    try:
        result = _send_once(provider, message, recipients, ctx.settings)
    finally:
        provider.close()
    who = person.email or "a sample reader"
    delivers = traits(ctx.provider).delivers
    r.say(f"Test send of “{message.subject}” with {ctx.provider}, personalised as {who}:")
    by_seq = {one.seq: one.email for one in recipients}
    for seq in result.accepted:
        r.say(f"  {'sent' if delivers else 'written':<9} {by_seq[seq]}")
    problems = {**result.failed, **result.unknown, **result.retry}
    for seq, reason in problems.items():
        r.warn(f"  not sent  {by_seq[seq]}: {reason}")
    errors, _ = gate_errors(ctx, r)
    if problems:
        raise ProblemsFound(f"{len(problems)} test message(s) were not sent")
    if errors:
        raise ProblemsFound(
            f"The test went out, but the real send would refuse: {errors} check error(s) above "
            f"(newsletter check {display_path(ctx.issue_file.path)} shows them all, with hints)"
        )
    if not delivers:
        r.say(only_files_line(ctx, len(result.accepted), outbox_folder(ctx.root, ctx.settings, f"{ctx.rendered.slug}-test")))


def _language_of(ctx: Context) -> Callable[[SubscriberLike], str]:
    """The issue's language each reader gets (its default for an issue in one language)."""
    languages = ctx.issue_file.languages
    if not languages:
        return lambda person: ""
    from newsletter.delivery.languages import COLUMN, chooser

    choose = chooser(languages, languages[0])
    return lambda person: choose(person.fields.get(COLUMN, ""))[0]


def _in_language_of(ctx: Context, person: SubscriberLike, known: dict[str, Rendered] | None = None) -> Rendered:
    """The issue rendered in the language ``person`` gets (renders kept in ``known``)."""
    tag = _language_of(ctx)(person)
    if not tag or tag == ctx.rendered.language:
        return ctx.rendered
    found = known if known is not None else {}
    if tag not in found:
        found[tag] = ctx.project.render(ctx.issue_file.variant(tag))
    return found[tag]


@dataclass(frozen=True)
class _Sample:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    line: int = 0


def _sample_subscriber(ctx: Context, as_email: str | None) -> SubscriberLike:
    for s in ctx.subscribers():
        if as_email is None or s.email.lower() == as_email.strip().lower():
            return s
    if as_email is not None:
        raise UsageError(f"--as {as_email}: no eligible subscriber with that address in {display_path(ctx.list_path)}")
    return _Sample()


def _send_once(provider: Provider, message: Message, recipients: Sequence[Recipient], settings: Settings) -> BatchResult:
    """One request, retried (by the rules) only when the answer says nothing was sent."""
    for attempt in range(settings.delivery.retries + 1):
        try:
            return provider.send(message, recipients, Attempt())
        except RetryLater as exc:
            if attempt == settings.delivery.retries:
                raise ProblemsFound(f"gave up: {exc.reason}") from None
            time.sleep(
                exc.wait if exc.wait is not None else backoff(attempt, settings.delivery.backoff, settings.delivery.backoff_cap)
            )
        except (Rejected, Unknown) as exc:
            raise ProblemsFound(exc.reason) from None
    raise ProblemsFound("gave up")


# -- sandbox validation --------------------------------------------------------------------


def validate(ctx: Context, send_at: int | None, r: Reporter) -> None:
    """Every request of the send in SendGrid's sandbox mode: checked, never delivered or journalled."""
    secret = load_secret(ctx.root)
    provider = make_provider("sendgrid", ctx.settings, ctx.root, folder="", sandbox=True)
    size = min(ctx.settings.delivery.batch_size, provider.traits.max_batch)
    requests = people = 0
    language_of = _language_of(ctx)
    try:
        for tag in ctx.issue_file.languages or ("",):  # a request holds readers of one language
            rendered = ctx.rendered if not tag else ctx.project.render(ctx.issue_file.variant(tag))
            message = make_message(rendered, ctx.settings, send_id=f"{ctx.rendered.slug}-validate", send_at=send_at)
            subscribers = (s for s in ctx.subscribers() if language_of(s) == tag)
            while batch := [
                recipient_for(s, ctx.settings, secret, seq=people + i, language=tag)
                for i, s in enumerate(islice(subscribers, size), 1)
            ]:
                _send_once(provider, message, batch, ctx.settings)
                requests += 1
                people += len(batch)
    finally:
        provider.close()
    r.say(
        f"SendGrid's sandbox accepted all {requests} request(s) for {people} recipient(s): "
        "nothing was delivered and nothing was recorded."
    )
