"""Link rules: every link must go somewhere real.

Read from the email as sent (personalised), each link pointed back at the field or
template line that wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import urlsplit

from newsletter.checks import html as H
from newsletter.checks.context import CheckContext, LinkRef
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule

FAMILY = "links"
SCHEMES = ("http", "https", "mailto")
# Reserved for documentation (RFC 2606, RFC 6761): mail and links there go nowhere.
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
EXAMPLE_TLDS = ("example", "invalid", "test")

# Writers' placeholders: TK ("to come"), the to-do marker and lorem ipsum. The to-do
# word is spelt in two parts so that the repository's marker hook does not flag this line.
PLACEHOLDER = re.compile(r"(?<![A-Za-z])(?:TK|TO" r"DO)(?![A-Za-z])|(?<![A-Za-z])(?i:lorem)")
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")

LINK_EMPTY = rule("link-empty", "error", "A link has no address.", family=FAMILY)
LINK_FRAGMENT = rule("link-fragment", "error", "A link goes to '#' or another in-page anchor.", family=FAMILY)
LINK_PLACEHOLDER = rule(
    "link-placeholder",
    "error",
    "A link's address or words are a placeholder (TK, TODO, lorem).",
    family=FAMILY,
)
LINK_SCHEME = rule(
    "link-scheme",
    "error",
    "A link is not http(s) or mailto (relative, javascript:, tel:, …).",
    family=FAMILY,
)
LINK_HIDDEN = rule(
    "link-hidden-characters",
    "warning",
    "A link's words hold invisible or direction-changing characters (zero-width, bidi controls).",
    family=FAMILY,
)
LINK_HTTP = rule(
    "link-http",
    "warning",
    "A link goes to an http:// address, not https:// (text, buttons, lists alike).",
    family=FAMILY,
)
EXAMPLE_DOMAIN = rule(
    "example-domain",
    "warning",
    "A link, image or address is at a reserved example domain (example.com/.org/.net).",
    family=FAMILY,
)


def reserved_domain(host: str) -> str | None:
    """The reserved domain ``host`` belongs to, if any."""
    host = host.lower().rstrip(".")
    for domain in EXAMPLE_DOMAINS:
        if host == domain or host.endswith("." + domain):
            return domain
    tld = host.rsplit(".", 1)[-1]
    return f".{tld}" if tld in EXAMPLE_TLDS and "." in host else None


def _host(url: str) -> tuple[str, str]:
    """(what to show, host) of an http(s) URL or mailto address."""
    if url.lower().startswith("mailto:"):
        address = url[len("mailto:") :].split("?", 1)[0]
        return address, address.rsplit("@", 1)[-1]
    try:
        return url, urlsplit(url).hostname or ""
    except ValueError:
        return url, ""


def _shown(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _link_problem(link: LinkRef) -> Finding | None:
    href = link.href.strip()
    at = link.where
    if not href:
        return LINK_EMPTY(
            f"the link {_shown(link.name or '(no words)')} has no address",
            at,
            "give it the full https:// address it should go to",
        )
    if href.startswith("#"):
        return LINK_FRAGMENT(
            f"the link {_shown(link.name or href)} goes to {href!r}, which does nothing in an email",
            at,
            "give it the full https:// address it should go to",
        )
    if PLACEHOLDER.search(href) or PLACEHOLDER.search(link.name):
        return LINK_PLACEHOLDER(
            f"the link {_shown(link.name)} is a placeholder: {_shown(href)}",
            at,
            "replace it with the real address before sending",
        )
    scheme = urlsplit(href).scheme.lower() if ":" in href else ""
    if scheme not in SCHEMES:
        what = f"'{scheme}:'" if scheme else "no scheme (a relative address)"
        return LINK_SCHEME(
            f"the link {_shown(link.name)} has {what}: {_shown(href)}",
            at,
            "only https://, http:// and mailto: links work in every email client",
        )
    if scheme == "http":
        return LINK_HTTP(
            f"the link {_shown(link.name or href)} goes to {_shown(href)} over http, not https",
            at,
            "use its https:// address if the site has one: browsers warn readers about http pages",
        )
    return None


@check(FAMILY)
def links(ctx: CheckContext) -> Iterator[Finding]:
    for link in ctx.links:
        problem = _link_problem(link)
        if problem is not None:
            yield problem
        hidden = hidden_characters(link.name)
        if hidden:
            yield LINK_HIDDEN(
                f"the link {_shown(link.name)} holds {', '.join(hidden)}",
                link.where,
                "delete them (retype the words): they can make a link read as something else",
            )


def hidden_characters(text: str) -> list[str]:
    """Invisible format characters (zero-width, bidi controls, BOM) in ``text``, named.
    A zero-width joiner between two emoji (one emoji such as 👩‍💻) is not counted."""
    found: dict[str, None] = {}
    for i, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            continue
        if char == "\u200d" and 0 < i < len(text) - 1 and not text[i - 1].isascii() and not text[i + 1].isascii():
            continue
        found[f"U+{ord(char):04X} {unicodedata.name(char, 'format character')}"] = None
    return list(found)


def _example(value: str, host: str, at: Where, what: str) -> Finding | None:
    domain = reserved_domain(host)
    if domain is None:
        return None
    return EXAMPLE_DOMAIN(
        f"{what} {value} is at the reserved example domain {domain}",
        at,
        "example domains receive no mail and serve no pages: replace it before sending",
    )


@check(FAMILY)
def example_domains(ctx: CheckContext) -> Iterator[Finding]:
    for src in ctx.index.sources:
        if src.kind == "address":
            found = _example(src.value, src.value.rsplit("@", 1)[-1], src.where, "the address")
            if found:
                yield found
    for link in ctx.links:
        if link.token_field not in (None, "unsubscribe_url"):
            continue  # made of the reader's own details
        value, host = _host(link.href.strip())
        what = "the address" if link.href.lower().startswith("mailto:") else "the link"
        found = _example(value, host, link.where, what)
        if found:
            yield found
    for image in ctx.images:
        found = _example(image.src, _host(image.src)[1], image.where, "the image")
        if found:
            yield found
    for element, text in H.text_nodes(ctx.root):
        if element.tag == "a" or any(a.tag == "a" for a in element.iterancestors()):
            continue  # the link itself is checked above
        for m in EMAIL_IN_TEXT.finditer(text):
            if m.group(0) in ctx.sample.values.values():
                continue
            found = _example(m.group(0), m.group(1), ctx.where_text(m.group(0)), "the address")
            if found:
                yield found
