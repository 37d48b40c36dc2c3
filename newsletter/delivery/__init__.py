"""Delivery: providers (SendGrid, SMTP, outbox), the send journal and the send loop.

Entry points: :func:`newsletter.delivery.session.real_send` (a real send: begin or
resume, settle, run, finish), the loop :func:`newsletter.delivery.run.deliver`, and
:func:`newsletter.delivery.providers.make_provider`. The journal's API is
:class:`newsletter.delivery.journal.Journal`; every header is made by :mod:`.headers`.
Nothing here renders: a send gets the issue rendered once (with per-recipient
tokens) and fills or substitutes per recipient.
"""
