"""``newsletter status`` and ``newsletter report``: where a send stands, and who was not reached."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import click

from newsletter.audience.csvfile import neutralize
from newsletter.delivery.journal_read import JournalView, SendRow, is_finished, open_existing
from newsletter.delivery.progress import SHOW_UNKNOWN
from newsletter.delivery.providers import resume_command
from newsletter.errors import InputError, NewsletterError, Problem, ProblemsFound, display_path
from newsletter.files import write_file
from newsletter.issue.load import slug_for
from newsletter.settings import find_project_root


def _sends(issue_path: Path) -> tuple[JournalView | None, list[SendRow], str]:
    if not issue_path.is_file():
        raise InputError(
            Problem(
                display_path(issue_path),
                None,
                None,
                "",
                "file not found",
                "give the issue file the send was made from, e.g. issues/<slug>.yaml",
            )
        )
    root = find_project_root(issue_path)
    slug = slug_for(issue_path)
    journal = open_existing(root)
    return journal, (journal.sends_for(slug) if journal else []), slug


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _record_lines(issue_path: Path, slug: str, local: bool) -> list[str]:
    """What the send record in ``sends/`` says (from whichever clone sent it)."""
    from newsletter.delivery import records

    root = find_project_root(issue_path)
    record = records.find(root, slug)
    if record is None:
        return []
    path = records.path_for(root, slug)
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in record.counts.items() if k != "eligible")
    if record.state == "cancelled":  # its figures are those SendGrid accepted for a time that never came
        counts, ended = "cancelled before its send time: nobody gets it", ""
    else:
        ended = f", finished {_when(record.finished)}" if record.finished is not None else ""
    lines = [
        f"{slug}: send record {display_path(path)}: {record.state} with {record.provider} "
        f"(started {_when(record.started)}{ended})",
        f"  eligible   {record.counts.get('eligible', 0)}; {counts or 'nothing sent yet'}",
    ]
    if not local:
        lines.append(
            "  (sent from another clone: its journal, with who got it, is on that machine; "
            "this clone refuses to send the issue again without --force)"
        )
    if path in records.uncommitted(root):
        lines.append(f"  not committed yet: {records.commit_hint(root, path)}")
    return lines


def _approval_line(issue_path: Path) -> None:
    """Where the issue's approval stands, when the project asks for one or one was given."""
    from newsletter.approval import store
    from newsletter.settings import load_settings

    root = find_project_root(issue_path)
    if load_settings(root).approval == "none" and not store.path_for(root, slug_for(issue_path)).is_file():
        return
    from newsletter.approval.policy import status as approval_status
    from newsletter.project import open_issue

    try:
        project, issue_file, rendered = open_issue(issue_path)
        found = approval_status(project, issue_file, rendered)
    except NewsletterError as exc:
        click.echo(f"approval: cannot tell ({exc.format_message().splitlines()[0]})")
        return
    click.echo(f"approval ({found.policy}): {found.text}")
    for line in found.details:
        click.echo(f"  {line}")


def status(issue_path: Path) -> None:
    """Print the progress of every send of this issue (real and outbox), and its send record."""
    journal, sends, slug = _sends(issue_path)
    _approval_line(issue_path)
    recorded = _record_lines(issue_path, slug, local=bool(sends))
    if not sends:
        if recorded:
            for line in recorded:
                click.echo(line)
        else:
            click.echo(f"{slug}: not sent yet (no send of this issue in the journal or in sends/)")
        if journal is not None:
            journal.close()
        return
    for line in recorded:
        click.echo(line)
    assert journal is not None
    try:
        for s in sends:
            counts = journal.counts(s)
            state = "finished" if is_finished(s, counts) else "not finished"
            if counts["cancelled"]:
                state = "cancelled"
            ended = f", finished {_when(s.finished)}" if state == "finished" else ""
            click.echo(f"{slug} with {s.provider}: {state} (started {_when(s.created)}{ended})")
            click.echo(f"  eligible   {s.eligible}" + ("" if s.loaded else " (the list is not all sent yet)"))
            for name in ("accepted", "marked_sent", "failed", "unknown", "suppressed", "pending", "in_flight", "cancelled"):
                if counts[name] or name in ("accepted", "pending"):
                    label = name.replace("_", " ")
                    click.echo(f"  {label:<11} {counts[name]}")
            if counts["marked_sent"]:
                click.echo(
                    "  (marked sent: their delivery was unknown and you chose to count them as sent; "
                    "`newsletter report` lists them)"
                )
            click.echo(f"  requests   {s.batches}")
            unknown = journal.unknown(s)
            for email, batch, reason in unknown[:SHOW_UNKNOWN]:
                click.echo(f"  unknown: {email} (batch {batch}: {reason})")
            if counts["cancelled"]:  # a scheduled send that was cancelled
                click.echo("  (a scheduled send that was cancelled: send the issue again to send it)")
            _schedule_lines(issue_path, s.key)
            if counts["in_flight"]:
                click.echo(
                    "  (a send is running, or the last one stopped mid-request: what became of its "
                    "in-flight recipients is settled from the outcome log when it resumes)"
                )
            elif unknown:
                click.echo(
                    "  resolve unknown recipients with: "
                    + resume_command(display_path(issue_path), s.provider, "--mark-unknown-sent")
                    + " (or --resend-unknown)"
                )
            elif state == "not finished":
                click.echo(f"  resume with: {resume_command(display_path(issue_path), s.provider)}")
    finally:
        journal.close()


def _schedule_lines(issue_path: Path, key: str) -> None:
    """When a scheduled send goes, in words, and SendGrid's state of its batch."""
    from newsletter.feedback.schedule import describe, find
    from newsletter.settings import load_settings

    root = find_project_root(issue_path)
    if find(root, key) is None:
        return
    settings = load_settings(root)
    for line in describe(root, key, settings.timezone, timeout=settings.delivery.sendgrid.timeout):
        click.echo(line)


NOT_REACHED = "not sent yet: the send stopped before it reached this address"


def _not_reached(issue_path: Path, send: SendRow, present: set[str]) -> Iterator[str]:
    """Eligible addresses the stopped send has not read from its list yet."""
    from newsletter.audience import eligible
    from newsletter.project import Project

    project = Project.find(issue_path)
    audience = project.load(issue_path).issue.audience
    required = project.settings.consent == "required"
    for subscriber in eligible(Path(send.list_path), audience, require_evidence=required):
        if subscriber.email.lower() not in present:
            yield subscriber.email


def _delivers(provider: str) -> bool:
    """Whether a recorded send's provider delivers (an outbox send only wrote files)."""
    from newsletter.delivery.providers import recorded, traits

    known = recorded(provider)
    return traits(known).delivers if known is not None else True


def report(issue_path: Path, out: Path) -> int:
    """Write ``address,state,reason`` for everyone not accepted; returns how many rows."""
    journal, sends, slug = _sends(issue_path)
    real = [s for s in sends if _delivers(s.provider)] or sends
    if not real:
        from newsletter.delivery import records

        record = records.find(find_project_root(issue_path), slug)
        if record is not None:
            raise ProblemsFound(
                f"{slug} was sent from another clone ({record.state}, "
                f"{record.counts.get('accepted', 0)} accepted of {record.counts.get('eligible', 0)}): "
                "who was not reached is in the journal of the machine that sent it; run the report there"
            )
        raise ProblemsFound(f"{slug} has not been sent: there is nothing to report")
    assert journal is not None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["address", "state", "reason"])
    rows = 0
    send = real[-1]
    try:
        for email, state, reason in journal.not_accepted(send):
            if not reason and state == "pending":  # written down, never tried
                reason = NOT_REACHED
            writer.writerow([neutralize(email), state, neutralize(reason)])
            rows += 1
        if not send.loaded:
            for email in _not_reached(issue_path, send, journal.present(send)):
                writer.writerow([neutralize(email), "pending", NOT_REACHED])
                rows += 1
    finally:
        journal.close()
    if _delivers(send.provider):  # accepted, then not delivered (newsletter results reads SendGrid's Email Logs)
        from newsletter.feedback.deliveries import read

        for reader in read(find_project_root(issue_path), slug):
            writer.writerow(
                [
                    neutralize(reader.get("email", "")),
                    f"accepted, then {reader.get('status', '')}",
                    neutralize(reader.get("reason", "")),
                ]
            )
            rows += 1
    try:
        write_file(out, buffer.getvalue(), personal=True)
    except OSError as exc:
        raise NewsletterError(f"{display_path(out)}: cannot write: {exc.strerror}") from None
    click.echo(f"Wrote {display_path(out)}: {rows} recipient(s) not accepted ({real[-1].provider} send)")
    return rows
