"""A real send from start to finish: begin or resume, settle what a stopped run left on
its way, the quality gate, the send loop, and what the editor is told at the end.

Policy lives here, with the journal it reasons about; ``commands/send.py`` reads the
options, chooses the mode, runs the quality gate and passes in what the send needs from
above delivery (:class:`~newsletter.delivery.hooks.SendHooks`) and where it speaks and asks
(:class:`~newsletter.delivery.progress.Reporter`).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from newsletter.audience import AudienceSummary, Entry, eligible, entries, summarize
from newsletter.delivery import progress as out
from newsletter.delivery import records
from newsletter.delivery.adopt import adopt, resumable
from newsletter.delivery.base import Message
from newsletter.delivery.bodies import SEND_AT_KEY
from newsletter.delivery.hooks import SendHooks
from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.journal_read import is_finished
from newsletter.delivery.keeper import Keeper, guard, new_category, settle_from_email_log
from newsletter.delivery.localtime import LocalPlan, LocalRule
from newsletter.delivery.outcomes import Log, OutcomeLog, log_path, read, settle
from newsletter.delivery.plan import (
    NewRow,
    SubscriberLike,
    content_hash,
    make_message,
    new_rows,
    recipient_maker,
    timed_rows,
    used_fields,
)
from newsletter.delivery.poster import GRACE, wait_for_stopped_poster
from newsletter.delivery.progress import Reporter
from newsletter.delivery.providers import (
    ProviderName,
    make_provider,
    outbox_folder,
    recorded,
    resume_command,
    send_key,
    traits,
)
from newsletter.delivery.run import RunResult, deliver
from newsletter.delivery.state import load_secret, state_dir
from newsletter.delivery.timing import Timing, began_otherwise, kept
from newsletter.errors import NewsletterError, ProblemsFound, UsageError, display_path
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.pipeline import Rendered
from newsletter.settings import Settings

if TYPE_CHECKING:
    from newsletter.delivery.languages import LanguageTally

POSTER_LOCK = "poster.lock"


class Interrupted(NewsletterError):
    """The editor pressed Ctrl-C: the send stopped cleanly and resumes when run again. Exit 130."""

    exit_code = 130


class SendFailed(NewsletterError):
    """The send began and could not go on (a disk full under the journal…): what it sent is
    recorded, and the same command resumes it. Exit 1, as any send that stopped part-way
    (2 is for bad input, with nothing sent)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class SendOptions:
    issue_path: Path
    list_path: Path | None = None
    provider: ProviderName | None = None
    dry_run: bool = False
    test_to: tuple[str, ...] = ()
    as_email: str | None = None
    validate: bool = False
    yes: bool = False
    send_at: str | None = None
    local: bool | None = None
    """``--local``: ``send_at`` is an hour in each reader's zone (:mod:`newsletter.delivery.localtime`);
    None: as the ``delivery.local_time`` setting says."""
    past: Literal["next", "now"] | None = None
    """``--past``; None: the ``delivery.local_time_past`` setting."""
    resend_unknown: bool = False
    mark_unknown_sent: bool = False
    force: bool = False
    rate: float | None = None
    no_sync: bool = False
    require_approval: bool = False
    push_record: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """One send's issue, settings, list and provider, worked out once."""

    project: Project
    issue_file: IssueFile
    rendered: Rendered
    settings: Settings
    list_path: Path
    provider: ProviderName
    only: frozenset[str] | None = None
    """When set, only these (lower-cased) addresses of the eligible list: a correction goes
    to the readers of the original send who are still eligible."""

    @property
    def root(self) -> Path:
        return self.project.root

    @property
    def require_evidence(self) -> bool:
        """``consent: required``: subscribers without evidence of consent are held back."""
        return self.settings.consent == "required"

    def subscribers(self) -> Iterator[SubscriberLike]:
        found = eligible(self.list_path, self.issue_file.issue.audience, require_evidence=self.require_evidence)
        only = self.only
        return found if only is None else (s for s in found if s.email.lower() in only)

    def entries(self) -> Iterator[Entry]:
        """The subscribers as a send reads them (the same people, lighter; with ``tracking:
        consented``, each saying whether they agreed to tracking)."""
        found = entries(
            self.list_path,
            self.issue_file.issue.audience,
            require_evidence=self.require_evidence,
            tracking=self.settings.tracking == "consented",
        )
        only = self.only
        return found if only is None else (e for e in found if e[0].lower() in only)

    def summary(self) -> AudienceSummary:
        """The list's figures for this issue's audience, as the send counts them (a list
        that does not say who agreed to tracking, when it must, refused before anything)."""
        if self.settings.tracking == "consented":
            self.entries()  # not read: asking is what refuses such a list
        return summarize(self.list_path, self.issue_file.issue.audience, require_evidence=self.require_evidence)

    def eligible_count(self) -> int:
        if self.only is None:
            return self.summary().eligible
        return sum(1 for _ in self.entries())


def only_files_line(ctx: Context, count: int, folder: Path) -> str:
    """The last line of anything that wrote messages to files and sent nothing."""
    import os

    from newsletter.delivery.api import api_key
    from newsletter.delivery.smtp import URL_ENV

    issue = display_path(ctx.issue_file.path)
    how = (
        f"to send for real: newsletter send {issue} --provider sendgrid"
        if api_key()
        else f"to send for real: newsletter send {issue} --provider smtp"
        if os.environ.get(URL_ENV, "").strip()
        else "set SENDGRID_API_KEY or SMTP_URL to send for real"
    )
    return f"No email was sent: {count} message(s) written to {display_path(folder)}/ ({how})"


def real_send(
    ctx: Context, o: SendOptions, send_at: int | None, r: Reporter, hooks: SendHooks, local: LocalRule | None = None
) -> None:
    """The real, resumable send (see the module docstring); ``local``: each reader at an
    hour in their own zone (:mod:`newsletter.delivery.localtime`), ``send_at`` then None."""
    try:
        _real_send(ctx, o, send_at, r, hooks, local)
    except sqlite3.OperationalError as exc:  # a full disk or a broken file under the journal
        raise SendFailed(
            f"{display_path(state_dir(ctx.root))}: the send journal cannot be written ({exc}); "
            "what it holds is safe: free some space and run the same command again"
        ) from None
    except OSError as exc:  # the outcome log or the state folder on a full or read-only disk, or else
        where = display_path(exc.filename) if exc.filename else display_path(state_dir(ctx.root))
        fix = (
            "free some space"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "make it writable"
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
            else "fix the cause"
        )
        raise SendFailed(
            f"{where}: cannot write ({exc.strerror or exc}); nothing was sent unrecorded: {fix} and run the same command again"
        ) from None
    except KeyboardInterrupt:
        resume = resume_command(display_path(ctx.issue_file.path), ctx.provider)
        raise Interrupted(
            f"stopped at once (second Ctrl-C). Nothing is lost: run `{resume}` to resume; the "
            "request that was on its way is settled from its outcome log"
        ) from None


def _real_send(
    ctx: Context, o: SendOptions, send_at: int | None, r: Reporter, hooks: SendHooks, local: LocalRule | None = None
) -> None:
    slug = ctx.rendered.slug
    key = send_key(slug, ctx.provider)
    list_name = display_path(ctx.list_path)
    state = state_dir(ctx.root)
    secret = load_secret(ctx.root)
    recorded_send = traits(ctx.provider).delivers
    journal = Journal.open(ctx.root)
    try:
        journal.lock()
        existing = journal.find(key)
        previous = guard(ctx.root, records.secret_id(secret)).of(slug) if recorded_send else None
        timing = _timing(ctx, journal, existing, previous, Timing(send_at, local), r, hooks)
        send_at, local = timing.send_at, timing.local
        draft = make_message(ctx.rendered, ctx.settings, send_id=key, send_at=send_at)
        digest = content_hash(draft)
        parts = _language_parts(ctx, key, send_at)
        if parts:
            from newsletter.delivery.languages import combined_digest

            digest = combined_digest({tag: content_hash(part) for tag, part in parts.items()})
        timed: LocalRows | None = None
        if local is not None:  # every reader's time, reckoned from the send's start
            timed = _local_rows(ctx, local, int(existing.created) if existing is not None else int(time.time()), r)
            draft = dataclasses.replace(draft, send_at=timed.plan.first, send_until=timed.plan.last)
        # a send carries its own category (SendGrid's Email Logs find its messages by it), kept in its record
        known = previous is not None and existing is not None and previous.state != "cancelled"
        category = previous.category if previous is not None and known else new_category()
        send_row: SendRow | None
        if existing is None and previous is not None and resumable(previous, ctx.provider):
            if timed is not None:
                raise UsageError(
                    "this issue's send began on another clone; a local-time send is resumed only "
                    "where it began (nothing was sent)"
                )
            send_row = _adopt(ctx, o, journal, key, digest, previous, r, hooks, timing)
            category, known = previous.category, True
        elif existing is None:
            if (
                previous is not None
                and previous.state in ("sending", "stopped")
                and not o.force
                and previous.provider != ctx.provider
            ):
                raise ProblemsFound(
                    f"this issue's send began on another clone with {previous.provider} "
                    f"({previous.counts.get('accepted', 0)} accepted); resume it with "
                    f"--provider {previous.provider}, or send to everyone again with --force"
                )
            send_row = _begin(
                ctx, o, journal, key, digest, r, created=timed.plan.now if timed is not None else None, timing=timing
            )
        else:
            send_row = _resume(ctx, o, journal, existing, digest, list_name, r, hooks, category if known else None)
        if send_row is None:
            return
        # a scheduled send's batch id, `unsubscribe: sendgrid`'s link
        message = hooks.dress(dataclasses.replace(draft, send_id=f"{slug}-{send_row.id}"), key)
        keeper = None
        if recorded_send:
            message = dataclasses.replace(message, categories=(*message.categories, category))
            made = _record(ctx, o, send_row, digest, secret, category, message, previous, timing)
            keeper = Keeper(ctx.root, made, journal, send_row)
            keeper.write("sending")
            if o.push_record:  # CI: the record reaches the shared repository before any request
                from newsletter.delivery.claim import Lost, claim

                try:
                    claim(ctx.root, keeper.record)
                except Lost:
                    if existing is None:  # begun by this run: it never happened
                        journal.delete_send(send_row)
                    raise
            journal.before_request = keeper.before_request
        # SendGrid's request process starts here and gets ready while the first batch is read
        provider = make_provider(ctx.provider, ctx.settings, ctx.root, folder=slug, background=True, lock=state / POSTER_LOCK)
        log = OutcomeLog(log_path(state, send_row.id))
        done = journal.counts(send_row)["accepted"]
        tally = _tally(ctx) if parts else None
        if timed is not None:
            source = None if send_row.loaded else iter(timed.rows)
            tally = timed.tally
        else:
            source = None if send_row.loaded else _new_rows(ctx, tally)
        languages = None
        if parts:
            from newsletter.delivery.languages import messages

            # each language's content dressed as the send's message was (the batch id is
            # the one already asked for; SendGrid's unsubscribe link put in its words)
            languages = {tag: hooks.dress(m, key) for tag, m in messages(message, parts).items()}
        at_once = False
        try:
            with r.progress(send_row.eligible, done) as bar:
                result = deliver(
                    journal,
                    send_row,
                    message,
                    provider,
                    recipient_maker(ctx.settings, secret, ctx.issue_file.languages),
                    ctx.settings.delivery,
                    source=source,
                    progress=keeper.sink(bar) if keeper is not None else bar,
                    split_tracked=ctx.settings.tracking == "consented",
                    log=log,
                    languages=languages,
                    group=_send_time if timed is not None else None,
                )
        except KeyboardInterrupt:  # a second Ctrl-C: stop without waiting for the answer
            at_once = True
            raise
        finally:
            provider.close(at_once=at_once)
            log.close()
            if at_once and traits(ctx.provider).message_by_message:
                # its sending threads have ended: the outcome log already tells what became of
                # each message on its way, so the journal is made true now, not on the next run
                raise Interrupted(_stopped_at_once(ctx, journal, send_row, r))
        if tally is not None and tally.chosen:
            result.notes.extend(tally.lines())
        _finish(journal, journal.refresh(key), result, ctx, keeper, r, hooks, timed.plan if timed is not None else None)
    finally:
        journal.close()


def _record(
    ctx: Context,
    o: SendOptions,
    send_row: SendRow,
    digest: str,
    secret: bytes,
    category: str,
    message: Message,
    previous: records.Record | None,
    timing: Timing,
) -> records.Record:
    """The send record of this send (its start kept from the record of the same send)."""
    issue_path = ctx.issue_file.path.resolve()
    try:
        issue_file = issue_path.relative_to(ctx.root.resolve()).as_posix()
    except ValueError:
        issue_file = issue_path.name
    from newsletter.audience.tally import fingerprint

    started = previous.started if previous is not None and previous.category == category else send_row.created
    return records.Record(
        slug=ctx.rendered.slug,
        issue_file=issue_file,
        issue_sha256=hashlib.sha256(ctx.issue_file.path.read_bytes()).hexdigest(),
        subject=ctx.rendered.subject,
        date=ctx.issue_file.issue.date.isoformat(),
        email_sha256=digest,
        provider=ctx.provider,
        category=category,
        list_file=ctx.list_path.name,
        list_sha256=fingerprint(ctx.list_path).sha256,
        list_rows=ctx.summary().total,
        secret_id=records.secret_id(secret),
        started=started,
        commit=(previous.commit if previous is not None and previous.category == category else records.head_commit(ctx.root)),
        send_at=message.send_at,
        batch_id=message.batch_id,
        forced=o.force,
        timing=timing.text(),
    )


def _timing(
    ctx: Context,
    journal: Journal,
    existing: SendRow | None,
    previous: records.Record | None,
    asked: Timing,
    r: Reporter,
    hooks: SendHooks,
) -> Timing:
    """When this run's messages go: as asked, or, for a send that goes on (stopped part-way
    on this clone, or begun on another that this run takes over), when it began to go
    (:func:`newsletter.delivery.timing.kept`: another time is refused). The journal's rows
    are counted only when the two differ."""
    if existing is not None:
        began = began_otherwise(journal.timing(existing), asked)
        if began is None:
            return asked
        counts = journal.counts(existing)
        if existing.finished is not None and not counts["pending"] and not counts["unknown"]:
            return asked  # sent: nothing goes on (the run says so)
        accepted = counts["accepted"]
    elif previous is not None and resumable(previous, ctx.provider):
        began = began_otherwise(previous.timing, asked)
        if began is None:
            return asked
        accepted = previous.counts.get("accepted", 0)
    else:
        return asked
    words = _timing_words(began, hooks)
    found = kept(began, asked, accepted=accepted, words=words)
    r.say(f"This send was scheduled {words} when it began: the rest keeps its time")
    return found


def _timing_words(timing: Timing, hooks: SendHooks) -> str:
    if timing.local is not None:
        return f"for {timing.local.words}"
    return "to go at once" if timing.send_at is None else f"for {hooks.when(timing.send_at)}"


def _language_parts(ctx: Context, key: str, send_at: int | None) -> dict[str, Message]:
    """An issue in several languages: its message in each (rendered here), else none."""
    if not ctx.issue_file.languages:
        return {}
    found = {}
    for variant in ctx.issue_file.in_each_language():
        assert variant.language is not None
        rendered = ctx.rendered if variant.language == ctx.rendered.language else ctx.project.render(variant)
        found[variant.language] = make_message(rendered, ctx.settings, send_id=key, send_at=send_at)
    return found


def _tally(ctx: Context) -> LanguageTally:
    from newsletter.delivery.languages import LanguageTally

    return LanguageTally(ctx.issue_file.languages[0])


def _new_rows(ctx: Context, tally: LanguageTally | None = None) -> Iterator[NewRow]:
    """The eligible list as the journal and the providers need it, read as it is sent.

    Nothing with CR, LF or NUL in a header value may be sent. The list module gives
    names on one line and valid addresses; a NUL byte could still reach a name, so a
    list holding one is checked in full before the first request.
    """
    fields = used_fields(ctx.rendered)
    if _has_nul(ctx.list_path):
        for _ in new_rows(ctx.entries(), ctx.settings, fields, ctx.list_path):
            pass
    if ctx.issue_file.languages:  # each row's values name its reader's language
        from newsletter.delivery.languages import COLUMN, tag_entries

        languages = ctx.issue_file.languages
        found = tag_entries(ctx.entries(), languages, languages[0], tally)
        return new_rows(found, ctx.settings, fields | {"first_name", "last_name", COLUMN}, ctx.list_path)
    return new_rows(ctx.entries(), ctx.settings, fields, ctx.list_path)


@dataclass(frozen=True, slots=True)
class LocalRows:
    """A local-time send's plan and its new rows, by send time."""

    plan: LocalPlan
    rows: list[NewRow]
    tally: LanguageTally | None = None
    """An issue in several languages: how many readers get each (the rows name theirs)."""


def _local_rows(ctx: Context, rule: LocalRule, now: int, r: Reporter) -> LocalRows:
    """Every reader's send time from the send's start ``now`` (the list read once, before
    anything is sent): told to the editor, refused past SendGrid's 72 hours."""
    plan = LocalPlan(rule, now)
    found: Iterator[Entry] = ctx.entries()
    fields = used_fields(ctx.rendered)
    tally = None
    if ctx.issue_file.languages:  # each row's values name its reader's language, as in _new_rows
        from newsletter.delivery.languages import COLUMN, tag_entries

        languages = ctx.issue_file.languages
        tally = _tally(ctx)
        found = tag_entries(found, languages, languages[0], tally)
        fields = fields | {"first_name", "last_name", COLUMN}
    timed = timed_rows(found, ctx.settings, fields, ctx.list_path, lambda e: plan.when(e.fields, e.line))
    plan.check()
    out.print_local_plan(r, plan, display_path(ctx.list_path))
    return LocalRows(plan, [row for _, row in timed], tally)


def _send_time(row: NewRow) -> object:
    """A local-time row's send time, from its merge values (see :func:`~newsletter.delivery.plan.timed_rows`)."""
    vals = row[3]
    return orjson.loads(vals).get(SEND_AT_KEY) if vals is not None else None


def _has_nul(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"\0" in chunk:
                return True
    return False


def _begin(
    ctx: Context,
    o: SendOptions,
    journal: Journal,
    key: str,
    digest: str,
    r: Reporter,
    *,
    created: float | None = None,
    timing: Timing | None = None,
) -> SendRow | None:
    summary = ctx.summary()
    out.print_held_back(r, summary)
    count = summary.eligible if ctx.only is None else ctx.eligible_count()
    if not o.yes:
        _ask(r, f"Send “{ctx.rendered.subject}” to {count} recipient(s) with {ctx.provider}?", count)
    send_row = journal.create(
        key=key,
        slug=ctx.rendered.slug,
        provider=ctx.provider,
        list_path=str(ctx.list_path.resolve()),
        content_hash=digest,
        eligible=count,
        created=created,
        timing=(timing or Timing()).text(),
    )
    log_path(state_dir(ctx.root), send_row.id).unlink(missing_ok=True)  # a journal made anew reuses ids
    r.say(f"Sending “{ctx.rendered.subject}” to {count} recipient(s) with {ctx.provider}")
    return send_row


def _adopt(
    ctx: Context,
    o: SendOptions,
    journal: Journal,
    key: str,
    digest: str,
    record: records.Record,
    r: Reporter,
    hooks: SendHooks,
    timing: Timing,
) -> SendRow:
    """Take over a SendGrid send begun on another clone (:mod:`newsletter.delivery.adopt`)."""
    from newsletter.audience.tally import fingerprint

    if fingerprint(ctx.list_path).sha256 != record.list_sha256:
        r.warn(
            f"{display_path(ctx.list_path)} is not the list this send began with on the other clone; "
            "readers are matched by address"
        )
    if not o.yes:
        count = ctx.summary().eligible
        _ask(
            r,
            f"Resume “{ctx.rendered.subject}”, begun on another clone, for the readers of {count} "
            "SendGrid's Email Logs do not show?",
            count,
        )

    def every(category: str, start: float, end: float) -> set[str]:
        return hooks.email_log().every(category, start, end)

    return adopt(
        journal,
        key=key,
        slug=ctx.rendered.slug,
        record=record,
        digest=digest,
        list_path=str(ctx.list_path.resolve()),
        rows=_new_rows(ctx),
        force=o.force,
        log_delay=ctx.settings.delivery.sendgrid.log_delay,
        echo=r.say,
        every=every,
        timing=timing.text(),
    )


def settle_stopped(ctx: Context, journal: Journal, send_row: SendRow, r: Reporter, run: str = "The last run") -> None:
    """Settle the rows a stopped run left ``in_flight``, from the outcome log, before anything else.

    The request process of a killed sender may still be posting its last request: it
    is waited for (until the request's timeout has surely passed). Then each request
    answered 2xx is accepted, one never started (or certainly not sent) goes back to
    ``pending`` to be sent again, and one started but never answered is ``unknown``,
    the only case left for the editor. For a provider whose resend is harmless (the
    outbox), everything on its way is simply sent again.
    """
    in_flight = journal.in_flight(send_row)
    if not in_flight:
        return
    state = state_dir(ctx.root)
    if traits(_stopped_with(send_row, ctx)).resend_is_harmless:
        log = Log([], True)  # writing a message again cannot deliver it twice
    else:
        timeout = ctx.settings.delivery.sendgrid.timeout + GRACE
        wait_for_stopped_poster(state / POSTER_LOCK, time.monotonic() + timeout)
        log = read(log_path(state, send_row.id))
    result = settle(in_flight, log)
    journal.settle(send_row, result)
    parts = [
        f"{len(result.accepted)} were accepted" if result.accepted else "",
        f"{len(result.retry)} were not sent and will be" if result.retry else "",
        f"{len(result.failed)} were refused" if result.failed else "",
        f"{len(result.unknown)} may or may not have been delivered (unknown)" if result.unknown else "",
    ]
    total = sum(len(seqs) for seqs in in_flight.values())
    r.warn(f"{run} stopped with {total} recipient(s) on their way: " + ", ".join(p for p in parts if p) + ".")


def _stopped_with(send_row: SendRow, ctx: Context) -> ProviderName:
    """The provider a recorded send was made with (the one asked for now if unknown)."""
    return recorded(send_row.provider) or ctx.provider


def _resume(
    ctx: Context,
    o: SendOptions,
    journal: Journal,
    send_row: SendRow,
    digest: str,
    list_name: str,
    r: Reporter,
    hooks: SendHooks,
    category: str | None,
) -> SendRow | None:
    settle_stopped(ctx, journal, send_row, r)
    counts = journal.counts(send_row)
    if counts["unknown"] and category and _stopped_with(send_row, ctx) == "sendgrid" and not o.mark_unknown_sent:
        settle_from_email_log(
            ctx.root, journal, send_row, category, ctx.settings.delivery.sendgrid.log_delay, r.warn, hooks.email_log
        )
        counts = journal.counts(send_row)
    if send_row.finished is not None and not counts["pending"] and not counts["unknown"]:
        outbox = (
            None
            if traits(_stopped_with(send_row, ctx)).delivers
            else display_path(outbox_folder(ctx.root, ctx.settings, send_row.slug))
        )
        out.print_already_sent(r, send_row, counts, display_path(ctx.issue_file.path), outbox, ctx.settings.timezone)
        return None
    if send_row.content_hash != digest or send_row.list_path != str(ctx.list_path.resolve()):
        changed = "the issue" if send_row.content_hash != digest else f"the list (was {send_row.list_path})"
        if not o.force:
            raise UsageError(
                f"{changed} changed since this send began ({counts['accepted']} already "
                "accepted); re-run with --force to send the rest as it is now"
            )
        journal.set_content(send_row, digest, str(ctx.list_path.resolve()))
    suppressed, restored, new = journal.reconcile(send_row, (e.email for e in ctx.entries()))
    if suppressed:
        r.say(f"{suppressed} address(es) are no longer eligible in {list_name}: suppressed")
    if restored:
        r.say(f"{restored} suppressed address(es) are eligible again")
    if new and send_row.loaded:
        r.say(f"{new} address(es) joined {list_name} after this send began; they are not part of it")
    unknown = journal.unknown(send_row) if counts["unknown"] else []
    if unknown:
        if not (o.resend_unknown or o.mark_unknown_sent):
            out.print_unknown(r, unknown)
            raise ProblemsFound(
                f"{len(unknown)} recipient(s) are 'unknown': nothing more is sent until you decide: "
                + _unknown_choice(ctx, display_path(ctx.issue_file.path), len(unknown))
            )
        n = journal.resolve_unknown(send_row, resend=o.resend_unknown)
        r.say(f"{n} unknown recipient(s) {'will be sent again' if o.resend_unknown else 'marked as sent'}")
    pending = journal.counts(send_row)["pending"] + (0 if send_row.loaded else new)
    if pending and not o.yes:
        _ask(
            r,
            f"Resume sending “{ctx.rendered.subject}” to the {pending} recipient(s) not sent yet, with {ctx.provider}?",
            pending,
        )
    r.say(f"Resuming: {pending} recipient(s) to send")
    return send_row


def _ask(r: Reporter, question: str, count: int) -> None:
    answer = r.ask(question)
    if answer is None:
        raise UsageError(
            f"no terminal to ask in: {count} recipient(s) would get this; add --yes to send without "
            "being asked (nothing was sent)"
        )
    if not answer:
        raise ProblemsFound("not sent: you said no")


def _unknown_choice(ctx: Context, issue: str, n: int) -> str:
    """What the editor chooses for ``n`` unknown recipients, each way named with its cost."""
    mark = resume_command(issue, ctx.provider, "--mark-unknown-sent")
    return (
        f"count them as sent with `{mark}`, or send all {n} again with --resend-unknown instead "
        "(whoever already has it then gets it twice)"
    )


def _next_run(ctx: Context, issue: str, unknown: int, resume: str, cause: bool = False) -> str:
    """What the next run does with what this one left: true whether or not some recipients are
    unknown, and whether or not SendGrid's Email Logs can settle them."""
    again = "fix the cause and run" if cause else "run"
    if not unknown:
        return f"Nothing is lost: {again} `{resume}` to resume"
    if ctx.provider == "sendgrid":
        return (
            f"{unknown} recipient(s) are 'unknown' (their request's answer never came): {again} `{resume}`; "
            "it first asks SendGrid's Email Logs about them and sends the rest; if the logs cannot say yet, "
            "it stops and asks you to " + _unknown_choice(ctx, issue, unknown)
        )
    return (
        f"{unknown} recipient(s) are 'unknown' (the server may have them; nothing can tell), so the next run "
        "stops until you decide: " + _unknown_choice(ctx, issue, unknown)
    )


def _stopped_at_once(ctx: Context, journal: Journal, send_row: SendRow, r: Reporter) -> str:
    """A second Ctrl-C of a message-by-message send (SMTP): its messages on their way are
    settled from the outcome log (one cut after its final ``.`` is ``unknown``), and the
    words say what the next run needs."""
    settle_stopped(ctx, journal, send_row, r, "This run")
    issue = display_path(ctx.issue_file.path)
    unknown = journal.counts(send_row)["unknown"]
    return "stopped at once (second Ctrl-C). " + _next_run(ctx, issue, unknown, resume_command(issue, ctx.provider))


def _finish(
    journal: Journal,
    send_row: SendRow,
    result: RunResult,
    ctx: Context,
    keeper: Keeper | None,
    r: Reporter,
    hooks: SendHooks,
    local: LocalPlan | None = None,
) -> None:
    counts = journal.counts(send_row)
    if counts["unknown"] and keeper is not None and ctx.provider == "sendgrid":  # e.g. its request process died
        settle_from_email_log(
            ctx.root, journal, send_row, keeper.record.category, ctx.settings.delivery.sendgrid.log_delay, r.warn, hooks.email_log
        )
        counts = journal.counts(send_row)
    # SMTP refusals saying an address does not exist turn it bounced in the list, before the
    # send may be marked finished: a stop before this point leaves it for the next run
    bounced = hooks.bounce_refused(journal, send_row) if counts["failed"] else ""
    finished = is_finished(send_row, counts)
    journal.set_finished(send_row, finished)
    when = None
    if keeper is not None and keeper.record.send_at is not None:
        when = hooks.when(keeper.record.send_at)
        if local is not None:  # local-time delivery: the first and the last reader's time
            hour = f"{local.rule.at:%H:%M} in each reader's zone"
            when = f"{hour} ({when})" if local.first == local.last else f"{hour}, from {when} to {hooks.when(local.last)}"
    delivers = traits(ctx.provider).delivers
    out.print_summary(r, counts, send_row.eligible, result, ctx.provider, delivers=delivers, when=when)
    if ctx.require_evidence:
        out.print_held_back(r, ctx.summary())
    if bounced:
        r.say(bounced)
    if keeper is not None:
        keeper.write("finished" if finished else "stopped", finished=finished)
        r.say(
            f"Send record: {display_path(keeper.path)} (no personal data); commit it so that every clone "
            f"knows: {records.commit_hint(ctx.root, keeper.path)}"
        )
    issue = display_path(ctx.issue_file.path)
    resume = resume_command(issue, ctx.provider)
    unknown = journal.unknown(send_row) if counts["unknown"] else []
    if result.outcome == "interrupted":
        raise Interrupted(
            "interrupted (Ctrl-C) after the request on its way was answered and recorded. "
            + _next_run(ctx, issue, len(unknown), resume)
        )
    if result.outcome in ("stopped", "paused"):
        verb = "stopped" if result.outcome == "stopped" else "paused"
        raise ProblemsFound(f"send {verb}: {result.message}. " + _next_run(ctx, issue, len(unknown), resume, cause=True))
    if unknown:
        out.print_unknown(r, unknown)
        raise ProblemsFound(f"{len(unknown)} recipient(s) are 'unknown': " + _unknown_choice(ctx, issue, len(unknown)))
    if counts["failed"]:
        raise ProblemsFound(f"{counts['failed']} recipient(s) failed; `newsletter report {issue}` lists them")
    if not finished:
        raise ProblemsFound(f"{counts['pending']} recipient(s) still to send; run the command again to resume")
    at = "at " if local is not None else ""  # "at 09:00 in each reader's zone, from …"
    r.say(
        "Finished: every eligible recipient is accounted for." + (f" SendGrid sends it {at}{when}." if when is not None else "")
    )
    if not delivers:
        r.say(only_files_line(ctx, counts["accepted"], outbox_folder(ctx.root, ctx.settings, send_row.slug)))
