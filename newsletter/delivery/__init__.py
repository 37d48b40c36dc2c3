"""Delivery: providers (SendGrid, SMTP, outbox), the send journal and the send loop.

Nothing here renders: a send gets the issue rendered once (with per-recipient
tokens) and fills or substitutes per recipient.
"""
