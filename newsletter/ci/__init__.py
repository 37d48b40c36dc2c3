"""Sending from CI and pull requests as the review (GitHub Actions).

Entry points: :func:`newsletter.ci.workflows.files` (the two workflows ``newsletter ci
init`` writes) and :func:`newsletter.ci.review.review` (``newsletter ci review BASE HEAD``).
:mod:`.changed` lists the issues a range of commits touched and reads the project as another
commit holds it; :mod:`.review` makes a pull request's comment (check findings, subject and
preheader, the plain text's diff against the base's render) and the built emails.
"""
