"""Feedback from SendGrid: suppressions into the list and back, unsubscribe tokens,
scheduled sends that can be recalled, and each issue's results.

Entry points: :func:`newsletter.feedback.sync.sync` (``subscribers sync``),
:func:`newsletter.feedback.tokens.match` (tokens → addresses),
:func:`newsletter.feedback.schedule.cancel` / :func:`~newsletter.feedback.schedule.pause`,
:func:`newsletter.feedback.results.fetch` and :func:`newsletter.feedback.deliveries.pull`.
"""
