"""Addresses, statuses and tags of one row: validated and normalised.

Addresses are checked by ``email-validator`` (syntax and normalisation; DNS only
when asked). Calling it for every address is the slowest part of reading a big list,
so :func:`fast_path` answers for the common shape of address exactly as
email-validator would, and everything else is given to email-validator itself.

Speed code: :func:`fast_path`. Plain twin: ``email_validator.validate_email``; held
equal by ``tests/test_subscribers_fastpath.py::test_fast_path_never_disagrees_with_the_library``
(and ``test_check_address_accepts_exactly_what_the_library_accepts``). Figures: docs/performance.md (``bench/``).

Why the fast path agrees with email-validator (``tests/test_subscribers_fastpath.py``
checks it with property tests). It only answers when the part before the first
``@`` matches the library's own ``DOT_ATOM_TEXT`` (plain ASCII atext), so there is
no quote, angle bracket, space or non-ASCII character there. For such an address
the library: splits at that ``@``; accepts the local part unchanged (ASCII is NFC)
except that it lower-cases the RFC 2142 role names (``info``, ``postmaster``...),
which the fast path does from the library's own list; validates and normalises
the domain without looking at the local part; then checks the length of the
original, normalised and IDNA-ASCII forms (at most 254 bytes each). So the
domain's answer is the same for every address in it, and the fast path keeps one
answer per domain: an ASCII domain of LDH labels (1-63 characters, no hyphen at
either end) with no ``--`` (so no Punycode and no R-LDH label), ending in a letter,
at most 253 characters and not a special-use name is only lower-cased (UTS-46 maps
A-Z to a-z and leaves digits, hyphens and dots alone); any other domain is
normalised by the library itself, once (``validate_email("a@" + domain)``). When a
domain is not valid, or a length limit is exceeded, the fast path does not answer
and the library decides for the whole address, so every rejection and its
message come from email-validator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import email_validator
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOMAIN_MAX_LENGTH,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
)

STATUSES = ("subscribed", "bounced", "unsubscribed", "complained")
"""Statuses from least to most strict; when an address appears twice the strictest wins."""
RANK = {name: rank for rank, name in enumerate(STATUSES)}
SUBSCRIBED = 0

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LDH_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}", re.ASCII)
_ROLES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_ROLE_MAX = max(len(r) for r in _ROLES)
_SPECIAL_TLDS = frozenset(d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES if "." not in d)
_SPECIAL_DOTTED = tuple("." + d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES if "." in d)
_DOMAINS: dict[str, tuple[str, str] | None] = {}
_DOMAINS_MAX = 200_000
_UNSEEN = ("", "")


@dataclass(frozen=True, slots=True)
class Address:
    """A valid address: how it is sent, and the key that finds its duplicates."""

    normalized: str
    key: str


def plain_domain(domain: str) -> str | None:
    """The normalised form of a plain ASCII LDH domain, or None when the library must decide."""
    if len(domain) > DOMAIN_MAX_LENGTH or _LDH_DOMAIN.fullmatch(domain) is None or "--" in domain or not domain[-1].isalpha():
        return None
    lowered = domain.lower()
    if lowered[lowered.rfind(".") + 1 :] in _SPECIAL_TLDS or ("." + lowered).endswith(_SPECIAL_DOTTED):
        return None
    return lowered


def _domain(domain: str) -> tuple[str, str] | None:
    """(normalised, IDNA ASCII) form of a domain, or None if the library must see the whole address."""
    known = _DOMAINS.get(domain, _UNSEEN)
    if known is not _UNSEEN:
        return known
    plain = plain_domain(domain)
    result: tuple[str, str] | None
    if plain is not None:
        result = (plain, plain)
    else:
        try:
            v = validate_email("a@" + domain, check_deliverability=False)
            result = (v.domain, v.ascii_domain)
        except EmailNotValidError:
            result = None
    if len(_DOMAINS) >= _DOMAINS_MAX:
        _DOMAINS.clear()
    _DOMAINS[domain] = result
    return result


def fast_path(address: str) -> str | None:
    """The normalised address exactly as email-validator gives it, or None: then ask the library."""
    local, at, domain = address.partition("@")
    if not at or DOT_ATOM_TEXT.match(local) is None:
        return None
    forms = _DOMAINS.get(domain) or _domain(domain)  # the memo inline: most domains repeat
    if forms is None:
        return None
    norm_domain, ascii_domain = forms
    if len(local) <= _ROLE_MAX and local.lower() in _ROLES:
        local = local.lower()
    normalized = f"{local}@{norm_domain}"
    if norm_domain is ascii_domain and address.isascii():
        return normalized if len(address) <= EMAIL_MAX_LENGTH else None
    for form in (address, normalized, f"{local}@{ascii_domain}"):
        if len(form.encode("utf-8")) > EMAIL_MAX_LENGTH:
            return None
    return normalized


def library_normalize(address: str) -> str:
    """email-validator's own answer (raises EmailNotValidError); no DNS."""
    return validate_email(address, check_deliverability=False).normalized


def check_address(raw: str) -> Address | str:
    """Validate one cell: an :class:`Address`, or the reason it is not one.

    Spaces around the address are removed; a line break anywhere is an error (it
    would be a header injection in a message, and usually means two cells ran
    together).
    """
    if "\n" in raw or "\r" in raw:
        return "the address contains a line break"
    text = raw.strip()
    if not text:
        return "the email is empty"
    normalized = fast_path(text)
    if normalized is not None:
        return Address(normalized, normalized.casefold())
    try:
        normalized = library_normalize(text)
    except EmailNotValidError as exc:
        return str(exc)
    return Address(normalized, normalized.casefold())


def suppression_key(raw: str) -> str:
    """A key for a row whose address is invalid: an unsubscribe there still protects its owner.

    Every kind of white space is dropped and the rest case-folded, so that
    ``"Bob@Example.org\\n"`` still suppresses ``bob@example.org``.
    """
    return "".join(raw.split()).casefold()


_ANGLE = re.compile(r"<([^<>]*)>")


def hold_keys(raw: str) -> set[str]:
    """Every key an address written in a broken cell may stand for, so that an
    unsubscribe there still protects its owner: the cell without its white space
    (``"bob @example.org\\n"``), the address in angle brackets (``Dev <dev@example.org>``),
    and :func:`suppression_key` of the cell as a last resort."""
    keys = {suppression_key(raw)}
    candidates = ["".join(raw.split())]
    candidates.extend("".join(m.split()) for m in _ANGLE.findall(raw))
    for candidate in candidates:
        checked = check_address(candidate) if candidate else None
        if isinstance(checked, Address):
            keys.add(checked.key)
    return keys


@lru_cache(maxsize=4096)
def domain_problem(ascii_domain: str) -> str | None:
    """DNS check of a domain (MX, or A/AAAA fallback, no null MX); None when it can receive mail.

    email-validator's deliverability check depends only on the domain, so one
    look-up per domain serves every address in it.
    """
    from newsletter.audience.dns import resolver

    try:
        validate_email(f"postmaster@{ascii_domain}", check_deliverability=True, dns_resolver=resolver())
    except EmailNotValidError as exc:
        return str(exc)
    return None


def ascii_domain(normalized: str) -> str:
    """The domain as looked up in DNS (IDNA ASCII form), from a normalised address."""
    domain = normalized[normalized.rfind("@") + 1 :]
    if domain.isascii():
        return domain
    return validate_email(normalized, check_deliverability=False).ascii_domain


def parse_status(raw: str) -> int | None:
    """The rank of a status cell (empty means subscribed), or None when it is not a status.
    Other tools' words are read as the import reads them (``Active``, ``Cleaned``,
    ``opted out``: :func:`newsletter.audience.consent.read_value`); not confirmed is not mailed."""
    rank = RANK.get(raw.strip().lower() or "subscribed")
    if rank is None:
        from newsletter.audience.consent import PENDING, read_value

        rank = read_value("status", raw)
        if rank == PENDING:
            rank = RANK["unsubscribed"]
    return rank


def parse_tags(raw: str) -> tuple[str, ...]:
    """Tags separated by ``;``, trimmed and lower-cased, without repeats, in their order."""
    seen: dict[str, None] = {}
    for part in raw.split(";"):
        tag = part.strip().lower()
        if tag:
            seen[tag] = None
    return tuple(seen)
