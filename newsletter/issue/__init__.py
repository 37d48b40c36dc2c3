"""Issue definitions: the schema and the loader.

Entry point: :func:`newsletter.issue.load.load_issue` (a YAML file → an immutable,
validated :class:`~newsletter.issue.model.Issue`, errors at file:line:column).
:mod:`.successor` starts the next issue (``newsletter new``); :mod:`.events` gives each
event its lasting identity; :mod:`.catalogue` lists a project's issues.
"""
