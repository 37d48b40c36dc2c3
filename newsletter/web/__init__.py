"""The web edition: every issue as a page, an index, an Atom feed and calendar files → ``site/``.

:func:`newsletter.web.edition.build_site` is the entry point; the modules are small:
``names`` (file names and addresses), ``page`` (an issue's page from its email),
``calendar`` (.ics), ``feed`` (Atom), ``index`` (index.html), ``edition`` (all of it).
"""
