"""Is the sending domain ready: what mailbox providers check before they accept a message.

Entry point: :func:`newsletter.deliverability.doctor.diagnose` (``newsletter doctor``, the
same findings in ``check --online`` and before a real send, :func:`~newsletter.deliverability.doctor.before_send`).

* ``dnsfacts``: bounded DNS look-ups (SPF with its includes, DMARC, DKIM records).
* ``account``: what SendGrid knows: authenticated domains, verified senders, free-mail domains.
* ``doctor``: the findings, the zone-file records to add, the day-long cache.
"""
