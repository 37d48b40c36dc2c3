"""``newsletter preview``: the email in a browser while it is written, with live reload.

Entry point: :func:`newsletter.commands.preview.preview`, which builds a
:class:`~newsletter.preview.site.Site` and serves it with
:class:`~newsletter.preview.server.PreviewServer`.
``site`` keeps every issue of the project built (an immutable snapshot swapped in
whole on each rebuild), ``watch`` turns saved files into rebuilds, ``server``
answers the browser (loopback only, no file paths in URLs) and ``static/`` is the
one page it serves.
"""
