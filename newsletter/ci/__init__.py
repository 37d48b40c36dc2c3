"""Sending from CI and pull requests as the review (GitHub Actions).

:mod:`.workflows` writes the two workflows (``newsletter ci init``); :mod:`.changed` lists
the issues a range of commits touched; :mod:`.review` makes a pull request's comment (check
findings, subject and preheader, the plain text's diff against the base's render) and the
built emails; :mod:`.snapshot` renders an issue as another commit holds it.
"""
