"""Rendering: issue + settings → the email's HTML and text parts, with per-recipient tokens.

Entry point: :func:`newsletter.render.pipeline.render_issue` (Jinja in its sandbox →
MJML → mjml-python → CSS inlined, and the plain text from the same model) →
:class:`~newsletter.render.pipeline.Rendered`; :mod:`.personalize` fills the tokens per reader.
"""
