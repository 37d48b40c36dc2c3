"""Per-recipient tokens: put in at render time, filled per recipient, escaped per context.

The rendered email is the same for everyone. Where a per-recipient value belongs,
templates write a token such as ``__nl_first_name_html__``: only letters, digits
and underscores, so it survives MJML, both CSS inliners and URL handling byte for
byte. The last part names the context, which decides the escaping when filled:

``html``
    HTML-escaped (text and attribute values).
``url``
    percent-encoded, for a value placed inside a link (``?email=…``).
``text``
    raw, for the plain-text part and headers.

Filling is a cheap split-and-join; MJML and the inliner never run per recipient.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Literal, Protocol
from urllib.parse import quote

from markupsafe import Markup

Context = Literal["html", "url", "text"]

TOKEN_RE = re.compile(r"__nl_([a-z][a-z0-9_]*?)_(html|url|text)__")
FIELD_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def token(field: str, context: Context) -> str:
    if not FIELD_RE.match(field):
        raise ValueError(f"'{field}' cannot be a merge field (use lower-case letters, digits, _)")
    return f"__nl_{field}_{context}__"


def escape(value: str, context: Context) -> str:
    if context == "html":
        return _html(value)
    if context == "url":
        return _url(value)
    return value


class RecipientTokens:
    """What templates see as ``recipient``: each attribute is a token for one field.

    ``{{ recipient.first_name }}`` gives the token in the environment's own context
    (html for the HTML template, text for the text template); ``{{ recipient.url.email }}``
    gives the percent-encoded form for use inside a link.
    """

    def __init__(self, context: Context) -> None:
        self._context = context

    def __getattr__(self, field: str) -> str:
        if field.startswith("_"):
            raise AttributeError(field)
        value = token(field, self._context)
        return Markup(value) if self._context != "text" else value

    @property
    def url(self) -> RecipientTokens:
        return RecipientTokens("url")


@dataclass(frozen=True, slots=True)
class Tokenized:
    """A text split at its tokens once, so that filling it is a join."""

    parts: tuple[str, ...]  # literal, token, literal, token, ..., literal
    slots: tuple[tuple[str, Context], ...]  # (field, context) for each token

    @classmethod
    def of(cls, text: str) -> Tokenized:
        parts: list[str] = []
        slots: list[tuple[str, Context]] = []
        last = 0
        for m in TOKEN_RE.finditer(text):
            parts.append(text[last : m.start()])
            slots.append((m.group(1), m.group(2)))  # type: ignore[arg-type]
            last = m.end()
        parts.append(text[last:])
        return cls(tuple(parts), tuple(slots))

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for f, _ in self.slots)

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(token(f, c) for f, c in self.slots)

    def fill(self, values: Mapping[str, str]) -> str:
        """Replace every token by its field's value escaped for the token's context.

        A field with no value is filled with an empty string: a missing merge
        field never leaves a raw token in a sent message.
        """
        out = [self.parts[0]]
        for (field, context), literal in zip(self.slots, self.parts[1:]):
            out.append(escape(values.get(field, ""), context))
            out.append(literal)
        return "".join(out)


def substituter(tokens: Iterable[str]) -> Callable[[Mapping[str, str]], dict[str, str]]:
    """Token → escaped value for the tokens used, as SendGrid's ``substitutions`` wants:
    a function written for a fixed set of tokens, parsed once (a send calls it per recipient).

    The function is written out for these tokens, one dict display, as
    ``collections.namedtuple`` writes its methods: it runs a million times in a big
    send, and a loop over the tokens is slower. Only names that
    ``TOKEN_RE`` accepts (letters, digits and ``_``) reach the source, as literals.
    """
    source = "def fill(values, h=h, u=u):\n    get = values.get\n    return " + substitutions_source(tokens) + "\n"
    namespace: dict[str, object] = dict(ESCAPERS)
    exec(source, namespace)  # noqa: S102 - source made above from validated token names only
    fill: Callable[[Mapping[str, str]], dict[str, str]] = namespace["fill"]  # type: ignore[assignment]
    return fill


def substitutions_source(tokens: Iterable[str], variables: Mapping[str, str] | None = None) -> str:
    """Python source of a dict display: each token → its field's value escaped for the
    token's context. A field named in ``variables`` is read from that local variable,
    any other with ``get(field, '')``; ``h`` and ``u`` escape (:data:`ESCAPERS`).
    Only names that ``TOKEN_RE`` accepts (letters, digits and ``_``) reach the source."""
    calls = {"html": "h({})", "url": "u({})", "text": "{}"}
    variables = variables or {}
    items: list[str] = []
    for tok in sorted(tokens):
        m = TOKEN_RE.fullmatch(tok)
        if m:
            field = m.group(1)
            value = variables.get(field) or f"get({field!r}, '')"
            items.append(f"{tok!r}: " + calls[m.group(2)].format(value))
    return "{" + ", ".join(items) + "}"


def _html(value: str) -> str:
    """``html.escape(value, quote=True)``, without its five replaces when nothing needs them
    (five ``in`` tests cost less than one regular-expression search)."""
    if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
        return html.escape(value, quote=True)
    return value


def _url(value: str) -> str:
    return quote(value, safe="")


ESCAPERS: dict[str, object] = {"h": _html, "u": _url}
"""The names :func:`substitutions_source` code calls: ``h`` (HTML) and ``u`` (URL)."""


@dataclass(frozen=True, slots=True)
class Greeting:
    """The opening line of a reader's email: ``named`` with ``{first_name}`` replaced
    when the list has a first name, else ``nameless`` (a fallback name in "Dear …" reads
    as spam: SpamAssassin scores "Dear friend" 2.7). ``by_language`` holds the pair of each
    language whose words differ (see :mod:`newsletter.render.words`): a reader of one of
    them (their row's ``language``, in an issue of several) is greeted in it."""

    named: str
    nameless: str
    by_language: tuple[tuple[str, str, str], ...] = ()
    """(language tag, named, nameless), for the languages whose words are not the default's."""
    _found: dict[str, Greeting] = _field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        found: dict[str, Greeting] = {}
        for tag, named, nameless in self.by_language:
            found[tag] = Greeting(named, nameless)
            found.setdefault(tag.split("-", 1)[0], found[tag])
        object.__setattr__(self, "_found", found)

    @classmethod
    def of(cls, settings: _GreetingSettings, languages: Iterable[str] | None = None) -> Greeting:
        """The settings' greeting; with ``languages`` (an issue's, when it has several) in
        each of them too."""
        from newsletter.render import words as greetings

        named, nameless, default = settings.greeting, settings.greeting_without_name, settings.language
        base = (
            greetings.in_language(named, greetings.NAMED, default, default),
            greetings.in_language(nameless, greetings.NAMELESS, default, default),
        )
        if languages is None:
            return cls(*base)
        tags = sorted({greetings.normal(t) for t in languages} | set(greetings.languages(named, nameless)))
        own = []
        for tag in tags:
            pair = (
                greetings.in_language(named, greetings.NAMED, tag, default),
                greetings.in_language(nameless, greetings.NAMELESS, tag, default),
            )
            if pair != base:
                own.append((tag, *pair))
        return cls(*base, tuple(own))

    def in_language(self, language: str) -> Greeting:
        """The greeting of a reader of ``language`` (a tag; ``""``: the default)."""
        found = self._found
        if not language or not found:
            return self
        got = found.get(language)
        if got is None:
            tag = language.strip().lower().replace("_", "-")
            got = found.get(tag) or found.get(tag.split("-", 1)[0]) or Greeting(self.named, self.nameless)
            found[language] = got
        return got

    def __call__(self, first_name: str, language: str = "") -> str:
        if language and self._found:
            return self.in_language(language)(first_name)
        return self.named.replace("{first_name}", first_name) if first_name else self.nameless


class _GreetingSettings(Protocol):
    @property
    def greeting(self) -> str | Mapping[str, str]: ...
    @property
    def greeting_without_name(self) -> str | Mapping[str, str]: ...
    @property
    def language(self) -> str: ...


def recipient_values(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    unsubscribe_url: str,
    fallback_first_name: str,
    greeting: Greeting,
    extra: Mapping[str, str] | None = None,
    language: str = "",
) -> dict[str, str]:
    """The raw values of one recipient's fields (escaping happens when filling); the
    greeting in ``language``, the language of the email they get (``""``: the default)."""
    values: dict[str, str] = {}
    for key, value in (extra or {}).items():
        key = key.strip().lower().replace(" ", "_").replace("-", "_")
        if FIELD_RE.match(key):
            values[key] = value
    values.update(
        email=email,
        first_name=first_name.strip() or fallback_first_name,
        last_name=last_name.strip(),
        unsubscribe_url=unsubscribe_url,
        greeting=greeting(first_name.strip(), language),
    )
    return values
