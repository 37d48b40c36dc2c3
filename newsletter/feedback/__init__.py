"""Feedback from SendGrid: suppressions into the list and back, unsubscribe tokens,
scheduled sends that can be recalled, and each issue's results."""
