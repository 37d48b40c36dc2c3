"""Columns that say whether a person agreed to receive email, as people and tools write them.

Other tools' exports carry consent under many names (``Subscribed?``, ``Opt-in``,
``Consent``, ``Email Marketing``, Mailchimp's ``UNSUB_TIME``, Substack's
``email_disabled``...) and in many words (``yes``, ``n``, ``TRUE``, ``0``,
``Cleaned``...). Each known column has a *kind*, which says how its values read:

``status``
    our own list's column: empty means subscribed, otherwise a status word.
``state``
    another tool's status column (``Email Marketing``, ``Subscription Status``): a
    status word, or yes/no meaning subscribed or not.
``yes``
    yes means the person agreed (``Subscribed?``, ``Opt-in``, ``Consent``).
``no``
    yes means the person did *not* agree (``Unsubscribed``, ``Opt out``,
    ``Do not email``, ``email_disabled``).
``unsub_time`` / ``clean_time``
    any value means unsubscribed / bounced (Mailchimp's dated exports).

A value that cannot be read as yes or no (``maybe``, and an empty cell where only a
yes would do) is a question for the person importing (:data:`UNREADABLE`), never a
guess: ``--yes-means VALUE`` answers it (that value means agreed, every other one
means not). A column whose name looks like consent but is not one we know
(:func:`looks_like_consent`) is a question too, answered by ``--status-column``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from newsletter.audience.validate import RANK, SUBSCRIBED

UNSUBSCRIBED = RANK["unsubscribed"]
BOUNCED = RANK["bounced"]
COMPLAINED = RANK["complained"]
PENDING = -1
"""Not confirmed (Mailchimp's *pending*, a transactional-only contact): never mailed,
and not recorded either, so a later sign-up can still be imported."""
UNREADABLE = None

_SQUASH = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """A header or value as compared: letters and digits only, case-folded."""
    return _SQUASH.sub("", text).casefold()


KNOWN: dict[str, str] = {
    # our own column, and plain "status" columns of other tools (MailPoet, CRMs)
    "status": "status",
    # another tool's status column
    **dict.fromkeys(
        (
            "emailstatus",
            "subscriptionstatus",
            "subscriberstatus",
            "memberstatus",
            "contactstatus",
            "liststatus",
            "emailmarketing",
            "emailmarketingstatus",
            "marketingstatus",
            "emailsubscriptionstatus",
            "emailmarketingconsent",
            "marketingemailstatus",
            "newsletterstatus",
            "optinstatus",
            "consentstatus",
        ),
        "state",
    ),
    # yes means agreed
    **dict.fromkeys(
        (
            "subscribed",
            "issubscribed",
            "subscribe",
            "subscriber",
            "optin",
            "optedin",
            "emailoptin",
            "marketingoptin",
            "newsletteroptin",
            "consent",
            "consented",
            "emailconsent",
            "marketingconsent",
            "gdprconsent",
            "consenttoemail",
            "newsletter",
            "newslettersignup",
            "receivenewsletter",
            "acceptsemailmarketing",
            "acceptsmarketing",
            "emailok",
            "emailpermission",
            "marketingpermission",
            "mailinglist",
            "contactable",
            "activesubscription",
            "subscribedtonewsletter",
        ),
        "yes",
    ),
    # yes means did not agree
    **dict.fromkeys(
        (
            "unsubscribed",
            "isunsubscribed",
            "unsubscribedfromallemail",
            "optout",
            "optedout",
            "emailoptout",
            "hasoptedoutofemail",
            "donotemail",
            "donotcontact",
            "donotmail",
            "emaildisabled",
            "nomarketing",
        ),
        "no",
    ),
    "unsubtime": "unsub_time",
    "cleantime": "clean_time",
}
"""Header (squashed) → kind, for every consent column we read."""

NOT_CONSENT = frozenset(
    (
        "unsubreason",
        "unsubreasonother",
        "unsubcampaigntitle",
        "unsubcampaignid",
        "cleancampaigntitle",
        "cleancampaignid",
        "optintime",
        "optinip",
        "confirmtime",
        "confirmip",
        "optindate",
        "subscribedat",
        "subscriptiontype",
        "subscriptionplan",
        "expiry",
        "plan",
    )
)
"""Headers that name consent words but hold something else (when, from where, why)."""

_LOOKS = re.compile(
    r"consent|optin|optout|optedin|optedout|unsub|gdpr|donot(e?mail|contact)|emailmarketing"
    r"|marketingemail|permission|contactable|subscri"
)
_NOT_A_YES_NO = re.compile(
    r"date|time|since|at$|on$|plan|type|tier|level|expir|id$|source|count|amount|price"
    r"|paid|interval|reason|campaign|ip$"
)


def looks_like_consent(squashed: str) -> bool:
    """A header that may say whether people agreed, but is not one we know."""
    if squashed in KNOWN or squashed in NOT_CONSENT:
        return False
    return _LOOKS.search(squashed) is not None and _NOT_A_YES_NO.search(squashed) is None


_YES = frozenset(
    (
        "yes",
        "y",
        "true",
        "t",
        "1",
        "on",
        "x",
        "ok",
        "subscribed",
        "subscribe",
        "optedin",
        "optin",
        "in",
        "active",
        "granted",
        "given",
        "agreed",
        "accepted",
        "consented",
        "confirmed",
        "checked",
        "ticked",
        "✓",
        "✔",
        "☑",
    )
)
_NO = frozenset(
    (
        "no",
        "n",
        "false",
        "f",
        "0",
        "off",
        "unsubscribed",
        "unsubscribe",
        "optedout",
        "optout",
        "out",
        "nonsubscribed",
        "notsubscribed",
        "neversubscribed",
        "inactive",
        "declined",
        "refused",
        "withdrawn",
        "revoked",
        "denied",
        "none",
        "unchecked",
        "unticked",
        "removed",
    )
)
_BOUNCED = frozenset(("cleaned", "bounced", "bounce", "hardbounce", "hardbounced", "invalid", "undeliverable"))
_COMPLAINED = frozenset(("complained", "spam", "spamreport", "spamreported", "abuse", "complaint"))
_PENDING = frozenset(("pending", "unconfirmed", "transactional", "archived", "notconfirmed"))


def read_value(kind: str, raw: str, yes_means: Collection[str] = ()) -> int | None:
    """The rank a cell of a consent column gives (:data:`PENDING` for an unconfirmed
    contact), or :data:`UNREADABLE`. ``yes_means`` (squashed values) is the answer to
    the question: those values mean agreed, and a value still unreadable means not."""
    value = squash(raw)
    if kind == "unsub_time":
        return UNSUBSCRIBED if value else SUBSCRIBED
    if kind == "clean_time":
        return BOUNCED if value else SUBSCRIBED
    if yes_means and value in yes_means:
        return SUBSCRIBED
    if value in _BOUNCED:
        return BOUNCED
    if value in _COMPLAINED:
        return COMPLAINED
    if value in _PENDING:
        return PENDING
    if not value and kind in ("status", "no"):
        return SUBSCRIBED  # our list's empty status; not opted out
    if value in ("subscribed", "unsubscribed", "nonsubscribed", "notsubscribed"):
        return SUBSCRIBED if value == "subscribed" else UNSUBSCRIBED  # the word means what it says
    agreed = value in _YES
    if not agreed and value not in _NO:
        return UNSUBSCRIBED if yes_means else UNREADABLE
    if kind == "no":
        agreed = not agreed
    return SUBSCRIBED if agreed else UNSUBSCRIBED


def combine(ranks: Sequence[int]) -> int:
    """One rank from every consent column of a row: the strictest; pending unless
    another column is stricter than subscribed."""
    top = max(ranks)
    return PENDING if top == SUBSCRIBED and PENDING in ranks else top


@dataclass(frozen=True, slots=True)
class Columns:
    """The consent columns of a header."""

    read: tuple[tuple[int, str], ...]
    """(index, kind) of each column read."""
    lookalikes: tuple[int, ...]
    """Indices of columns that look like consent but are not known (a question)."""
    ignored: tuple[int, ...] = ()
    """Look-alikes left alone because the person named the consent column."""


def columns(names: Sequence[str], *, status_column: str | None = None, skip: Collection[int] = ()) -> Columns:
    """Find the consent columns among header names (``skip``: indices already used).
    With ``status_column`` (a header name, matched as people write it) that column is
    read, as its known kind or as a yes column, and other look-alikes are ignored."""
    read: list[tuple[int, str]] = []
    looks: list[int] = []
    named = squash(status_column) if status_column is not None else None
    for i, name in enumerate(names):
        if i in skip or not name:
            continue
        key = squash(name)
        if key == named:
            read.append((i, KNOWN.get(key, "yes")))
        elif key in KNOWN:
            read.append((i, KNOWN[key]))
        elif looks_like_consent(key):
            looks.append(i)
    if named is not None:
        return Columns(tuple(read), (), tuple(looks))
    return Columns(tuple(read), tuple(looks))


def find_named(names: Sequence[str], status_column: str) -> int | None:
    """The index of the column ``--status-column`` names, if the header has it."""
    wanted = squash(status_column)
    return next((i for i, n in enumerate(names) if squash(n) == wanted), None)
