"""Rendering: issue + settings → the email's HTML and text parts, with per-recipient tokens."""
