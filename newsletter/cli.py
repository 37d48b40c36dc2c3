"""The command line: options and help text only; each command calls one function.

Command modules are imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

import click

from newsletter import __version__
from newsletter.nogc import spare_the_exit

ISSUE = click.argument(
    "issue_path",
    metavar="ISSUE.yaml",
    type=click.Path(path_type=Path, dir_okay=False),
)


class _FiniteFloat(click.FloatRange):
    """A number in a range; ``nan`` and ``inf`` (which Python reads as numbers) are not."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number of messages per second", param, ctx)
        return number


FINITE_RATE = _FiniteFloat(min=0.01)


class _WholeShortHelp:
    """A command whose line in its group's list is its help's whole first sentence (click
    cuts it to fit the terminal's width with "..."; the list wraps it instead)."""

    def get_short_help_str(self, limit: int = 45) -> str:
        short: str = super().get_short_help_str(limit=10_000)  # type: ignore[misc]
        return short


class _Command(_WholeShortHelp, click.Command):
    pass


class _Group(_WholeShortHelp, click.Group):
    command_class = _Command
    group_class = type  # sub-groups (ci, subscribers) are made the same way


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
def cli() -> None:
    """Write a monthly email update as YAML; preview, check and send it safely."""


@cli.command()
@ISSUE
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("build"),
    show_default=True,
    help="Folder to write <slug>.html and <slug>.txt into.",
)
@click.option(
    "--lang", "language", metavar="TAG", help="One of the issue's languages (written as <slug>.TAG.html unless the default)."
)
def build(issue_path: Path, out_dir: Path, language: str | None) -> None:
    """Render ISSUE.yaml to HTML and plain text."""
    from newsletter.commands import build as command
    from newsletter.report import print_build_summary

    result = command.build(issue_path, out_dir, language)
    print_build_summary(result)


# -- send, status, report -------------------------------------------------------------------


@cli.command()
@ISSUE
@click.option(
    "--list",
    "list_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Subscriber list (default: subscribers.csv in the project).",
)
@click.option(
    "--provider",
    type=click.Choice(["sendgrid", "smtp", "outbox"]),
    help="How to deliver (default: sendgrid with SENDGRID_API_KEY set, else outbox).",
)
@click.option("--dry-run", is_flag=True, help="Everything but delivery, no network: audience, requests, samples on disk.")
@click.option(
    "--test-to",
    "test_to",
    multiple=True,
    metavar="ADDR",
    help="Send a test to ADDR only (repeatable); subject marked [TEST]; not recorded.",
)
@click.option("--as", "as_email", metavar="ADDR", help="Personalise the test as this subscriber (default: the first).")
@click.option("--validate", is_flag=True, help="SendGrid sandbox mode: checked by SendGrid, nothing delivered.")
@click.option("--yes", "-y", is_flag=True, help="Send without asking (the real send asks, showing the count).")
@click.option(
    "--send-at", "--at", "send_at", metavar="WHEN", help="Schedule with SendGrid, at most 72 h ahead (2024-06-14T09:00)."
)
@click.option(
    "--local/--no-local",
    default=None,
    help="With --at HH:MM: each reader at that hour in their own zone (the list's timezone column).",
)
@click.option(
    "--past",
    type=click.Choice(["next", "now"]),
    help="With --local: a reader whose hour has gone today gets the next day's (default), or now.",
)
@click.option("--resend-unknown", is_flag=True, help="Send again to recipients whose delivery is unknown.")
@click.option("--mark-unknown-sent", is_flag=True, help="Count recipients whose delivery is unknown as sent.")
@click.option("--force", is_flag=True, help="Send although checks found problems or the issue changed mid-send.")
@click.option("--rate", type=FINITE_RATE, metavar="N", help="At most N messages per second.")
@click.option("--no-sync", is_flag=True, help="Do not bring SendGrid's unsubscribes and bounces into the list first.")
@click.option(
    "--require-approval", is_flag=True, help="Refuse unless this exact email is approved, even with approval: none (as CI sends)."
)
@click.option(
    "--push-record",
    is_flag=True,
    help="Commit and push the send record before the first request; refuse if another run's got there first (CI).",
)
def send(issue_path: Path, **options: object) -> None:
    """Send ISSUE.yaml (or dry-run, test or validate it); re-running resumes."""
    from newsletter.commands.send import SendOptions
    from newsletter.commands.send import send as command

    command(SendOptions(issue_path, **options), confirm=lambda q: click.confirm(q, default=False))  # type: ignore[arg-type]


@cli.command()
@ISSUE
def status(issue_path: Path) -> None:
    """Show how far the send of ISSUE.yaml has got."""
    from newsletter.commands.status import status as command

    command(issue_path)


@cli.command()
@ISSUE
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("unsent.csv"),
    show_default=True,
    help="Where to write address,state,reason of everyone not accepted.",
)
def report(issue_path: Path, out: Path) -> None:
    """Write the recipients of ISSUE.yaml's send who were not accepted, with the reason."""
    from newsletter.commands.status import report as command

    command(issue_path, out)


def _project_list(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    from newsletter.settings import project_list

    return project_list(value)


LIST = click.option(
    "--list",
    "list_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    callback=_project_list,
    help="The subscriber list (CSV; default: subscribers.csv in the project).",
)
CHECK_DNS = click.option("--check-dns", is_flag=True, help="Also look up each domain in DNS (slow; needs the network).")


@cli.group()
def subscribers() -> None:
    """The subscriber list: figures, validation, imports, unsubscribes."""


@subscribers.command()
@LIST
@CHECK_DNS
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stats(list_path: Path, check_dns: bool, fmt: str) -> None:
    """Totals by status and tag, invalid rows, duplicates, eligible subscribers."""
    from newsletter.commands import subscribers as command

    command.show_stats(command.stats(list_path, check_dns=check_dns), fmt)


@subscribers.command()
@LIST
@CHECK_DNS
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the rows to fix to this CSV (line, email, problem).",
)
def check(list_path: Path, check_dns: bool, report_path: Path | None) -> None:
    """Validate every row; exit 1 if any row is invalid."""
    from newsletter.commands import subscribers as command

    summary = command.check(list_path, report_path, check_dns=check_dns)
    wordings = command.check_wordings(list_path)
    command.show_check(summary, report_path)
    command.show_wordings(wordings, list_path)
    command.fail_if_invalid(summary, wordings, list_path)


@subscribers.command(name="import")
@LIST
@click.argument("source", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--tag", help="Add this tag to every imported subscriber.")
@click.option(
    "--status-column",
    metavar="COLUMN",
    help="The column that says whether each person agreed to get email (when the import asks).",
)
@click.option(
    "--yes-means",
    multiple=True,
    metavar="VALUE",
    help="A value of the consent columns that means the person agreed (repeatable); every value not read as yes then means no.",
)
def import_(list_path: Path, source: Path, tag: str | None, status_column: str | None, yes_means: tuple[str, ...]) -> None:
    """Merge another CSV export (ours, Mailchimp, Substack, Eventbrite, a CRM's) into the list.

    Consent columns (Subscribed?, Opt-in, Email Marketing...) are read: "no" is
    recorded as unsubscribed. Never resubscribes an address that is unsubscribed,
    bounced or complained, nor adds back one that was forgotten.
    """
    from newsletter.commands import subscribers as command
    from newsletter.errors import display_path

    result = command.import_(list_path, source, tag, status_column=status_column, yes_means=yes_means)
    command.show_import(result, display_path(list_path))


@subscribers.command()
@LIST
@click.argument("emails", metavar="[EMAIL...]", nargs=-1)
@click.option("--reason", help="Why (kept in the unsubscribe_reason column).")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="T",
    help="An unsubscribe token from a link (repeatable): its address is unsubscribed.",
)
@click.option(
    "--tokens-from",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Unsubscribe every token found in FILE (a form export, a web server log: any text).",
)
def unsubscribe(
    list_path: Path, emails: tuple[str, ...], reason: str | None, tokens: tuple[str, ...], tokens_from: Path | None
) -> None:
    """Record that EMAIL... unsubscribed (added to the list if not in it), or the
    readers whose unsubscribe tokens are given."""
    from newsletter.errors import UsageError, display_path

    if tokens or tokens_from is not None:
        if emails:
            raise UsageError("give addresses or tokens, not both")
        from newsletter.commands import tokens as by_token

        by_token.show(by_token.unsubscribe_tokens(list_path, tokens, tokens_from), display_path(list_path))
        return
    if not emails:
        raise UsageError("give EMAIL..., --token T or --tokens-from FILE")
    from newsletter.commands import subscribers as command

    command.show_unsubscribe(command.unsubscribe_(list_path, emails, reason), display_path(list_path))


@subscribers.command()
@LIST
@click.argument("address", metavar="ADDRESS")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(list_path: Path, address: str, fmt: str) -> None:
    """Everything this project holds about ADDRESS: the list's rows, consent evidence,
    suppressions, every send it was in, and the files that still name it."""
    from newsletter.commands import people

    people.run_show(list_path, address, fmt)


@subscribers.command()
@LIST
@click.argument("address", metavar="ADDRESS")
@click.option(
    "--sendgrid",
    "at_sendgrid",
    is_flag=True,
    help="Also ask SendGrid to erase what it holds of ADDRESS (needs SENDGRID_API_KEY).",
)
def forget(list_path: Path, address: str, at_sendgrid: bool) -> None:
    """Remove ADDRESS from the list and from every file of the project that names it;
    keep a keyed hash so that no later import adds it back."""
    from newsletter.commands import people

    people.run_forget(list_path, address, at_sendgrid)


# -- feedback from SendGrid ---------------------------------------------------------------


@subscribers.command()
@LIST
@click.option("--dry-run", is_flag=True, help="Read SendGrid's lists and show what would change; change nothing.")
@click.option(
    "--push-global",
    is_flag=True,
    help="Push the list's unsubscribes into SendGrid's global unsubscribes (stops ALL the account's "
    "mail to them, receipts too); without it they go into the unsubscribe group, if configured.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def sync(list_path: Path, dry_run: bool, push_global: bool, fmt: str) -> None:
    """Bring SendGrid's unsubscribes, bounces and spam reports into the list, and the
    list's unsubscribes into SendGrid."""
    from newsletter.commands import sync as command

    command.show(command.sync_list(list_path, dry_run=dry_run, push_global=push_global), fmt)


@cli.command()
@ISSUE
def cancel(issue_path: Path) -> None:
    """Cancel the send of ISSUE.yaml scheduled with --send-at (until 10 minutes before it)."""
    from newsletter.commands import schedule as command

    command.cancel(issue_path)


@cli.command()
@ISSUE
@click.option("--unpause", is_flag=True, help="Lift the pause: the send goes out at its time (or at once).")
def pause(issue_path: Path, unpause: bool) -> None:
    """Hold the send of ISSUE.yaml scheduled with --send-at (or, with --unpause, let it go)."""
    from newsletter.commands import schedule as command

    command.pause(issue_path, unpause)


@cli.command()
@ISSUE
@click.option("--since", metavar="YYYY-MM-DD", help="First day to read (default: the day of the issue's first send).")
def results(issue_path: Path, since: str | None) -> None:
    """SendGrid's figures for ISSUE.yaml, by day, into results/<slug>.json (commit it), and who was not delivered."""
    from newsletter.commands import results as command

    command.show(*command.results(issue_path, since))
    command.show_readers(command.readers(issue_path))


@cli.command(name="check")
@ISSUE
@click.option("--online", is_flag=True, help="Also request every link and image (slower; needs the network).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Findings for people, or as JSON for scripts.",
)
@click.option(
    "--list",
    "list_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Subscriber list to personalise with (default: subscribers.csv in the project).",
)
@click.option(
    "--force", is_flag=True, help="Accept a subject or date that is the same as another issue's (a warning, not an error)."
)
def check_issue(issue_path: Path, online: bool, fmt: str, list_path: Path | None, force: bool) -> None:
    """Check ISSUE.yaml before sending: exit 1 on errors, warnings listed.

    The email is checked as the subscriber with the longest names and address would
    get it. Each finding names the file, line and field to change, and a hint.
    """
    from newsletter.commands import check as command

    command.report(command.check(issue_path, online=online, list_path=list_path, force=force), fmt)


@cli.command()
@click.argument("slug", required=False, metavar="[SLUG]")
@click.option(
    "--from",
    "from_path",
    metavar="ISSUE.yaml",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The issue to start from (default: the latest in issues/ by date).",
)
@click.option(
    "--date",
    "date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The new issue's date (default: a month after the one it starts from).",
)
def new(slug: str | None, from_path: Path | None, date: dt.datetime | None) -> None:
    """Start the next issue as issues/SLUG.yaml, from the latest (or --from) one.

    Keeps the structure and standing sections, sets the date, carries over the events
    still to come, and puts "TK: …" placeholders where this month's words go.
    SLUG defaults to the earlier one's with the new year, month and month name.
    Never writes over an existing file.
    """
    from newsletter.commands import new as command

    command.show(command.new(slug, from_path, date.date() if date else None))


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback needs to be given on purpose.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on (0: any free port)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in the web browser.")
def preview(host: str, port: int, open_browser: bool) -> None:
    """Preview the issues of this project in a browser, updated on every save."""
    from newsletter.commands.preview import preview as command

    command(host, port, open_browser)


@cli.command()
@click.argument("issue_paths", metavar="[ISSUE.yaml...]", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the site into (default: site/ in the project).",
)
@click.option(
    "--base-url", metavar="URL", help="Where the site is served, for hosts that need absolute links (default: web_archive_url)."
)
def publish(issue_paths: tuple[Path, ...], out_dir: Path | None, base_url: str | None) -> None:
    """Write the web edition: a page per issue, index.html, feed.xml and calendar files.

    Always the whole archive: every issue dated today or earlier, sent, or published
    before; an ISSUE.yaml named is added ahead of its date. An issue that does not build
    is reported and left out (exit 1); files that did not change are not rewritten, and
    the ones that did are listed for the upload.
    """
    from newsletter.commands.publish import publish as command

    command(issue_paths, out_dir, base_url)


@cli.command()
@click.option(
    "--provider",
    type=click.Choice(["sendgrid", "smtp"]),
    default=None,
    help="The delivery to check for (default: sendgrid, or smtp when only SMTP_URL is set).",
)
def doctor(provider: str | None) -> None:
    """Is the sending domain ready: SPF, DKIM, DMARC and alignment with SendGrid's
    authenticated domain for the From (and Reply-To) address; prints the DNS records to add.

    Exit 1 when a real send would refuse the From address, 0 with warnings only.
    """
    from newsletter.commands import doctor as command

    command.show(command.doctor(Path.cwd(), provider))


@cli.command()
@ISSUE
@click.option("--note", metavar="TEXT", help="What changed, in your words (default: worked out from the edit).")
@click.option("--email", is_flag=True, help="Also email the readers of the original send (only them).")
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of the site to publish again (default: site/ in the project).",
)
@click.option(
    "--list",
    "list_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Subscriber list the readers are checked against (default: subscribers.csv).",
)
@click.option(
    "--provider",
    type=click.Choice(["sendgrid", "smtp", "outbox"]),
    help="Delivery for --email (default: sendgrid when SENDGRID_API_KEY is set, else outbox).",
)
@click.option("--yes", "-y", is_flag=True, help="Send the correction email without asking.")
@click.option("--force", is_flag=True, help="Send although checks found problems.")
@click.option("--no-sync", is_flag=True, help="Do not bring SendGrid's unsubscribes and bounces into the list first.")
def correct(issue_path: Path, **options: Any) -> None:
    """Note a correction of a published issue: a dated note on its page, its feed entry
    and calendar entries updated, and with --email a short email to the readers of the
    original send, minus anyone unsubscribed or bounced since (resumable like a send).
    """
    from newsletter.commands.correct import correct as command

    command(issue_path, confirm=lambda q: click.confirm(q, default=False), **options)


# -- working as a team: approval and CI --------------------------------------------------


@cli.command()
@ISSUE
@click.option("--by", metavar="WHO", help="Who approves (default: git's user.email).")
def approve(issue_path: Path, by: str | None) -> None:
    """Approve the email ISSUE.yaml renders to now (after a test send): approvals/<slug>.json.

    A real send then refuses an email that renders differently, naming what changed,
    when newsletter.yaml says approval: required, another-person or pull-request.
    """
    from newsletter.commands.approve import approve as command

    command(issue_path, by)


@cli.group()
def ci() -> None:
    """Sending from GitHub Actions, and pull requests as the review."""


@ci.command(name="init")
@click.option("--force", is_flag=True, help="Write over workflows this command wrote before.")
def ci_init(force: bool) -> None:
    """Write the GitHub Actions workflows: send from CI, review issues in pull requests."""
    from newsletter.commands import ci as command

    command.init(Path.cwd(), force)


@ci.command(name="review")
@click.argument("base", metavar="BASE")
@click.argument("head", metavar="HEAD")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("review"),
    show_default=True,
    help="Folder for comment.md and each issue's built HTML and text.",
)
def ci_review(base: str, head: str, out: Path) -> None:
    """The pull request's review of the issues changed from commit BASE to HEAD (the work tree)."""
    from newsletter.commands import ci as command

    command.review(Path.cwd(), base, head, out)


@ci.command(name="issues")
@click.argument("base", metavar="BASE")
@click.argument("head", metavar="HEAD")
def ci_issues(base: str, head: str) -> None:
    """The issue files added or changed from commit BASE to HEAD, one a line."""
    from newsletter.commands import ci as command

    command.changed(Path.cwd(), base, head)


@ci.command(name="approve-merge")
@ISSUE
@click.option(
    "--pull",
    "pull_json",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="GitHub's answer to GET /repos/{repo}/commits/{sha}/pulls for the merge commit.",
)
@click.option(
    "--reviews",
    "reviews_json",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="GitHub's answer to GET /repos/{repo}/pulls/{n}/reviews.",
)
@click.option("--merge", "merge_sha", metavar="SHA", required=True, help="The merge commit (github.sha).")
def ci_approve_merge(issue_path: Path, pull_json: Path, reviews_json: Path, merge_sha: str) -> None:
    """Record the approved review of the merged pull request as the approval of ISSUE.yaml."""
    from newsletter.commands import ci as command

    command.approve_merge(issue_path, pull_json, reviews_json, merge_sha)


@ci.command(name="push")
@ISSUE
def ci_push(issue_path: Path) -> None:
    """Commit and push the send record and approval of ISSUE.yaml (rebasing on other runs' commits)."""
    from newsletter.commands import ci as command

    command.push(issue_path)


def main() -> None:
    # pydantic scans every installed package's metadata for plugins on first use; a
    # command-line tool has none to load, and the scan costs a noticeable part of start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli(prog_name="newsletter")
    finally:
        spare_the_exit()  # the command is done: see newsletter.nogc
