"""``newsletter preview``: the email in a browser while it is written, with live reload.

``site`` keeps every issue of the project built (an immutable snapshot swapped in
whole on each rebuild), ``watch`` turns saved files into rebuilds, ``server``
answers the browser (loopback only, no file paths in URLs) and ``static/`` is the
one page it serves.
"""
