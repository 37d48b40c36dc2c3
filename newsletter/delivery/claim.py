"""``send --push-record``: the send record reaches the shared repository before the first request.

Two runs that begin the same issue at once (two CI runs without a concurrency group, a
laptop and CI) both commit their record and push; git takes one push and refuses the
other (its branch moved). The refused run fetches, finds the other run's record of this
issue (another SendGrid category) and stops before sending anything; its work tree is
reset to the remote branch, so its record never overwrites the winner's. A run killed
later leaves a record on the remote that the next run resumes from
(:mod:`newsletter.delivery.adopt`).
"""

from __future__ import annotations

from pathlib import Path

from newsletter.delivery import gitpush, records
from newsletter.delivery.records import Record
from newsletter.errors import NewsletterError, ProblemsFound


class Lost(ProblemsFound):
    """Another run's record of this issue reached the repository first: nothing was sent."""


def claim(root: Path, record: Record) -> None:
    rel = f"{records.FOLDER}/{record.slug}.json"
    remote, branch = gitpush.upstream(root)
    gitpush.commit(root, [rel], f"Send record: {record.slug} ({record.state})")
    for _ in range(gitpush.ATTEMPTS):
        pushed = gitpush.push_once(root, remote, branch)
        if pushed.ok:
            return
        theirs_commit = gitpush.fetch(root, remote, branch)
        theirs = gitpush.show(root, theirs_commit, rel)
        if theirs is not None:
            other = _category(theirs)
            if other != record.category:
                gitpush.git(root, "reset", "-q", "--keep", theirs_commit)
                raise Lost(
                    f"another run began sending this issue first: {rel} on {remote}/{branch} is its record "
                    f"(category {other or 'unreadable'}). Nothing was sent by this run; the send goes on "
                    "there, or is resumed from that record by the next run"
                )
        gitpush.rebase(root, theirs_commit)
    raise NewsletterError(
        f"the send record could not be pushed to {remote}/{branch} after {gitpush.ATTEMPTS} tries "
        f"({pushed.err.strip()}); nothing was sent"
    )


def _category(data: bytes) -> str | None:
    import json

    try:
        found = json.loads(data.decode("utf-8")).get("category")
    except (UnicodeDecodeError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None
