"""The web edition: every issue as a page, an index, an Atom feed and calendar files → ``site/``.

:func:`newsletter.web.edition.build_site` is the entry point (it writes); the modules are small
(the file names and addresses the emails link to are :mod:`newsletter.sitenames`, below
both this package and rendering): ``archive`` (which issues: it never shrinks),
``issue`` (one issue for the web), ``page`` (an issue's page from its email), ``webcopy``
(email-only markup out), ``calendar`` (.ics), ``feed`` (Atom), ``index`` (index.html),
``state`` (``published.json``), ``revisions`` (what changed: SEQUENCE, updated, notes),
``cache`` (publish only what changed), ``make`` (every file in memory), ``result`` (what
a publish was asked and did), ``correct`` (``newsletter correct``).
"""
