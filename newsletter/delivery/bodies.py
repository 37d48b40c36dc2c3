"""SendGrid request bodies straight from journal rows, in whichever process posts them.

A large send builds many bodies of many personalisations each, a large part of the
sender's work. The sender hands the request process the
batch's rows and, once per message, a *spec* (:func:`body_spec`): the common part of
the body, already serialised, and what each personalisation is made from (the
message's tokens, the project's secret for the unsubscribe tokens, the unsubscribe
link, the fallback first name, the greeting in each language). Both processes build with :class:`RowsBody`, so a
body is the same bytes wherever it is built (a test holds the two equal to the body
built from :class:`~newsletter.delivery.base.Recipient` s).

This module imports nothing heavy: the request process starts quickly.

Speed code: builds request bodies from journal rows without making a recipient per
row. Plain twin: :meth:`newsletter.delivery.sendgrid.PayloadBuilder.build` building the body
from :class:`~newsletter.delivery.base.Recipient` s; held equal by
``tests/test_delivery_payload.py::test_a_body_built_from_rows_is_the_body_built_from_recipients``
(and the token and link makers by ``test_fast_token_and_link_makers_agree_with_the_plain_functions``).
Figures: docs/performance.md (``bench/``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from newsletter.delivery.base import RowTuple
from newsletter.delivery.headers import ONE_CLICK, ascii_address, quoted_name
from newsletter.delivery.state import token_maker
from newsletter.render.personalize import ESCAPERS, TOKEN_RE, Greeting, substitutions_source

HEAD = b'{"personalizations":'
SEND_AT_KEY = "@send_at"
"""A reader's own send time (local-time delivery) in their journal row's merge values (a
key no merge field can have); their personalisation then carries it as ``send_at``."""

ItemsFunction = Callable[[Sequence[RowTuple]], bytes]


def link_maker(template: str) -> Callable[[str], str]:
    """The unsubscribe link for many tokens (``template`` is split once)."""
    parts = template.split("{token}")
    if len(parts) != 2:
        return lambda token: template.replace("{token}", token)
    head, tail = parts
    return lambda token: f"{head}{token}{tail}"


def rows_items(
    tokens: Sequence[str], *, secret: bytes, unsubscribe_url: str, fallback: str, greeting: Greeting, send_id: str, mailto: str
) -> ItemsFunction:
    """The JSON array of personalisations for journal rows (``seq, email, first, last,
    vals``), as if each row were first made into a recipient: the function is written
    out for this message's tokens (see :func:`~newsletter.render.personalize.substituter`),
    with no recipient or values dict in between."""
    names = substitutions_source(
        tokens,
        {"first_name": "first_name", "last_name": "last", "email": "email", "unsubscribe_url": "url", "greeting": "greeting"},
    )
    others = substitutions_source(tokens, {"email": "email", "unsubscribe_url": "url", "greeting": "greeting"})
    greets = any(m is not None and m.group(1) == "greeting" for m in map(TOKEN_RE.fullmatch, tokens))
    source = (
        "def items(rows):\n"
        "    out = []\n"
        "    append = out.append\n"
        "    for seq, email, first, last, vals in rows:\n"
        "        url = link(tok(email))\n"
        "        name = qn(f'{first} {last}'.strip())\n"
        "        address = email if email.isascii() else asc(email)\n"
        "        if vals is None:\n"
        "            first_name = first or fallback\n"
        "            get = empty\n"
        + ("            greeting = greet(first)\n" if greets else "")
        + f"            subs = {names}\n"
        "            at = None\n"
        "        else:\n"
        "            get = loads(vals).get\n"
        + ("            greeting = greet(first, get('language', ''))\n" if greets else "")
        + f"            subs = {others}\n"
        "            at = get(at_key)\n"
        "        item = {'to': [{'email': address, 'name': name} if name else {'email': address}],"
        " 'substitutions': subs,"
        " 'headers': {'List-Unsubscribe': f'<{url}>' + mailto, 'List-Unsubscribe-Post': one_click},"
        " 'custom_args': args}\n"
        "        if at is not None:\n"
        "            item['send_at'] = at\n"
        "        append(item)\n"
        "    return dumps(out)\n"
    )
    namespace: dict[str, object] = {
        **ESCAPERS,
        "qn": quoted_name,
        "asc": ascii_address,
        "tok": token_maker(secret),
        "link": link_maker(unsubscribe_url),
        "fallback": fallback,
        "greet": greeting,
        "loads": orjson.loads,
        "dumps": orjson.dumps,
        "empty": {}.get,
        "at_key": SEND_AT_KEY,
        "one_click": ONE_CLICK,
        "args": {"send_id": send_id},
        "mailto": mailto,
    }
    exec(source, namespace)  # noqa: S102 - token names validated by substitutions_source
    items: ItemsFunction = namespace["items"]  # type: ignore[assignment]
    return items


def body_spec(
    tokens: Sequence[str],
    *,
    secret: bytes,
    unsubscribe_url: str,
    fallback: str,
    greeting: Greeting,
    send_id: str,
    mailto: str,
    tail: bytes,
) -> bytes:
    """What :class:`RowsBody` is made from, as JSON (``tail``: the body after the
    personalisations, from the comma on)."""
    return orjson.dumps(
        {
            "tokens": list(tokens),
            "secret": secret.hex(),
            "unsubscribe_url": unsubscribe_url,
            "fallback": fallback,
            "greeting": [greeting.named, greeting.nameless, greeting.by_language],
            "send_id": send_id,
            "mailto": mailto,
            "tail": tail.decode("utf-8"),
        }
    )


def _greeting(spec: list[Any]) -> Greeting:
    named, nameless, by_language = spec
    return Greeting(named, nameless, tuple((tag, n, nl) for tag, n, nl in by_language))


class RowsBody:
    """Builds request bodies from journal rows, for one message (given its :func:`body_spec`)."""

    def __init__(self, spec: bytes) -> None:
        found: dict[str, Any] = orjson.loads(spec)
        self.spec = spec
        self._items = rows_items(
            found["tokens"],
            secret=bytes.fromhex(found["secret"]),
            unsubscribe_url=found["unsubscribe_url"],
            fallback=found["fallback"],
            greeting=_greeting(found["greeting"]),
            send_id=found["send_id"],
            mailto=found["mailto"],
        )
        self._tail = found["tail"].encode("utf-8")

    def build(self, rows: Sequence[RowTuple]) -> bytes:
        """The request body (joined at once: each concatenation of a body this size cost
        a fresh 600 KB copy)."""
        return b"".join((HEAD, self._items(rows), self._tail))
