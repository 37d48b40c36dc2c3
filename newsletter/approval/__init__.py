"""Approval of the rendered bytes: a second pair of eyes on the exact email before it goes out.

``newsletter approve`` writes ``approvals/<slug>.json`` (:mod:`.store`): the rendered
email's hash, who approved it, when and at which commit, and what the email was made from
(:mod:`.made_from`: the issue file's lines, the templates, the settings), so that a send
refusing a changed email can name what changed (:mod:`.changes`). :mod:`.policy` decides,
from ``approval:`` in ``newsletter.yaml``, whether an email may be sent; :mod:`.authors`
reads who wrote the issue from git; :mod:`.pullrequest` turns an approved and merged pull
request (GitHub's answers) into an approval.

Entry points: :func:`newsletter.approval.policy.status` and :func:`~newsletter.approval.policy.gate`.
"""
