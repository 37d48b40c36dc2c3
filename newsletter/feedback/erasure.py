"""Asking SendGrid to erase what it holds of readers (``POST /v3/recipients/erasejob``).

SendGrid deletes every personal datum it holds of each address (names, addresses,
subject lines, categories, IP addresses) for the account the key belongs to; it
takes at most 5,000 addresses per request and answers with a job id.
"""

from __future__ import annotations

from newsletter.feedback.account import TIMEOUT, call, client

MOST_PER_REQUEST = 5000


def erase(addresses: list[str]) -> str:
    """Ask SendGrid to erase these addresses; the id of the (last) erasure job."""
    sg = client(TIMEOUT)
    job = ""
    for i in range(0, len(addresses), MOST_PER_REQUEST):
        chunk = addresses[i : i + MOST_PER_REQUEST]
        answer = call(
            "asking SendGrid to erase the reader's data",
            lambda c=chunk: sg.client.recipients.erasejob.post(  # type: ignore[misc]
                request_body={"email_addresses": c}
            ),
        )
        job = str((answer or {}).get("job_id", ""))
    return job
