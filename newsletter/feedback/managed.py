"""``unsubscribe: sendgrid``: the email's visible unsubscribe link is SendGrid's own.

SendGrid replaces ``<%asm_group_unsubscribe_raw_url%>`` in a message's content with the
link that unsubscribes the reader from the request's unsubscribe group (``asm.group_id``)
and records it there; ``subscribers sync`` brings it into the list. The rendered email
holds our per-recipient token for the link; for a SendGrid send in this mode the token
is replaced by SendGrid's tag in the content common to all recipients, once, so nothing
per recipient is left to fill for it.

Headers: SendGrid adds ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` itself only
with its subscription tracking on (its "List-Unsubscribe" page and its support article
on the 2024 mailbox-provider requirements), which this tool keeps off; so our one-click
headers stay on every message, in both modes.
"""

from __future__ import annotations

import dataclasses

from newsletter.delivery.base import Message
from newsletter.render.personalize import Tokenized
from newsletter.settings import Settings

SENDGRID_LINK = "<%asm_group_unsubscribe_raw_url%>"
_TOKENS = ("__nl_unsubscribe_url_html__", "__nl_unsubscribe_url_url__", "__nl_unsubscribe_url_text__")


def sendgrid_link(message: Message, settings: Settings, provider: str) -> Message:
    """The message with SendGrid's group unsubscribe link for the visible link, in
    ``unsubscribe: sendgrid`` mode with SendGrid (else the message as it is)."""
    if settings.unsubscribe != "sendgrid" or provider != "sendgrid":
        return message
    html, text = message.html, message.text
    for token in _TOKENS:
        html = html.replace(token, SENDGRID_LINK)
        text = text.replace(token, SENDGRID_LINK)
    tokens = tuple(t for t in message.tokens if t not in _TOKENS)
    # the parts too: whatever builds a message from them must see the same content
    return dataclasses.replace(
        message, html=html, text=text, tokens=tokens, html_parts=Tokenized.of(html), text_parts=Tokenized.of(text)
    )
