"""The GitHub Actions workflows ``newsletter ci init`` writes, as text (the same every time).

* ``newsletter-send.yml``: on a manual run (the issue, and when SendGrid sends it) or on a
  push to the default branch that changes an issue. One send at a time (``concurrency``,
  never cancelled mid-way), in a protected environment (``newsletter``: required reviewers,
  holding ``SENDGRID_API_KEY`` and ``NEWSLETTER_SECRET``). ``check`` first, the send refused
  unless approved (``--require-approval``), its record pushed before the first request
  (``--push-record``) and again at the end whether the send succeeded or not.
* ``newsletter-review.yml``: on a pull request that touches an issue, a template or the
  settings: ``newsletter ci review`` makes the comment and the built emails (an artifact).

Every value from the event reaches a script through ``env:``, never pasted into it (a
branch name or an input cannot inject shell commands).
"""

from __future__ import annotations

from newsletter import __version__

SEND_FILE = ".github/workflows/newsletter-send.yml"
REVIEW_FILE = ".github/workflows/newsletter-review.yml"
ENVIRONMENT = "newsletter"
MARK = "# Written by `newsletter ci init`"

_HEAD = f"""{MARK} (newsletter {__version__}); docs/teamwork.md explains it.
# Edit it freely: `newsletter ci init --force` writes it again.
"""

SEND_STEP = """\
git pull --ff-only --quiet
newsletter check "$ISSUE"
newsletter send "$ISSUE" --yes --provider sendgrid --require-approval --push-record ${SEND_AT:+--send-at "$SEND_AT"}
"""
"""The send step's script: the latest records of the runs before this one, ``check``, the send."""

RECORD_STEP = """\
newsletter ci push "$ISSUE"
"""
"""The last step's script (run whatever happened): the record, and an approval, committed back."""

WHICH_STEP = """\
if [ -n "$ISSUE_INPUT" ]; then
  echo "file=$ISSUE_INPUT" >> "$GITHUB_OUTPUT"
  exit 0
fi
changed="$(newsletter ci issues "$BEFORE" "$AFTER")"
if [ "$(printf '%s' "$changed" | grep -c .)" -gt 1 ]; then
  echo "::error::this push changes several issues; send each with a manual run of this workflow"
  printf '%s\\n' "$changed"
  exit 1
fi
echo "file=$changed" >> "$GITHUB_OUTPUT"
"""

MERGE_STEP = """\
gh api "repos/$REPO/commits/$AFTER/pulls" > "$RUNNER_TEMP/pull.json"
number="$(jq -r '[.[] | select(.merged_at != null)][0].number // empty' "$RUNNER_TEMP/pull.json")"
if [ -z "$number" ]; then
  echo "no merged pull request brought this commit"
  exit 0
fi
gh api --paginate "repos/$REPO/pulls/$number/reviews" --jq '.[]' > "$RUNNER_TEMP/reviews.jsonl"
newsletter ci approve-merge "$ISSUE" --pull "$RUNNER_TEMP/pull.json" --reviews "$RUNNER_TEMP/reviews.jsonl" --merge "$AFTER"
"""


def _indent(script: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in script.splitlines(keepends=True))


def send_workflow(branch: str = "main") -> str:
    return (
        _HEAD
        + f"""name: Send the newsletter

on:
  workflow_dispatch:
    inputs:
      issue:
        description: "The issue file to send, e.g. issues/2024-07-july-team-update.yaml"
        required: true
        type: string
      send_at:
        description: "When SendGrid sends it (newsletter's time zone, at most 72 h ahead), e.g. 2024-07-12T09:00; empty: now"
        required: false
        type: string
        default: ""
  push:
    branches: [{branch}]
    paths:
      - "issues/**.yaml"

permissions:
  contents: write  # to commit the send record (and a pull request's approval) back
  pull-requests: read  # to read the merged pull request's reviews (approval: pull-request)

# One send at a time, and never one cancelled mid-way: a run waits for the one before it.
concurrency:
  group: newsletter-send
  cancel-in-progress: false

jobs:
  send:
    runs-on: ubuntu-latest
    # Protected: Settings > Environments > {ENVIRONMENT}: required reviewers, and the secrets
    # SENDGRID_API_KEY and NEWSLETTER_SECRET, which only this job can read.
    environment: {ENVIRONMENT}
    timeout-minutes: 120
    env:
      ISSUE_INPUT: ${{{{ inputs.issue }}}}
      SEND_AT: ${{{{ inputs.send_at }}}}
      BEFORE: ${{{{ github.event.before }}}}
      AFTER: ${{{{ github.sha }}}}
    steps:
      - uses: actions/checkout@v4
        with:
          # the branch as it is now, not the commit that started the run: the records that
          # the runs before this one pushed are in it
          ref: ${{{{ github.ref_name }}}}
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install newsletter
        run: python -m pip install --quiet .
      - name: Git identity for the send record's commits
        run: |
          git config user.name "github-actions[bot]"
          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
      - name: Which issue
        id: issue
        run: |
{_indent(WHICH_STEP, 10)}      - name: Approval from the merged pull request (approval - pull-request)
        if: steps.issue.outputs.file != '' && github.event_name == 'push'
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          REPO: ${{{{ github.repository }}}}
          ISSUE: ${{{{ steps.issue.outputs.file }}}}
        run: |
{_indent(MERGE_STEP, 10)}      - name: Send
        if: steps.issue.outputs.file != ''
        env:
          ISSUE: ${{{{ steps.issue.outputs.file }}}}
          SENDGRID_API_KEY: ${{{{ secrets.SENDGRID_API_KEY }}}}
          NEWSLETTER_SECRET: ${{{{ secrets.NEWSLETTER_SECRET }}}}
        run: |
{_indent(SEND_STEP, 10)}      - name: Commit the send record, whatever happened
        if: always() && steps.issue.outputs.file != ''
        env:
          ISSUE: ${{{{ steps.issue.outputs.file }}}}
        run: |
{_indent(RECORD_STEP, 10)}"""
    )


REVIEW_STEP = """\
newsletter ci review "$BASE" "$HEAD" --out "$RUNNER_TEMP/review"
"""

COMMENT_STEP = """\
body="$RUNNER_TEMP/review/comment.md"
gh pr comment "$PR" --body-file "$body" --edit-last || gh pr comment "$PR" --body-file "$body"
"""


def review_workflow() -> str:
    return (
        _HEAD
        + f"""name: Review the newsletter

on:
  pull_request:
    paths:
      - "issues/**.yaml"
      - "templates/**"
      - "newsletter.yaml"

permissions:
  contents: read
  pull-requests: write  # to comment

concurrency:
  group: newsletter-review-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  review:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install newsletter
        run: python -m pip install --quiet .
      - name: Review the changed issues
        env:
          BASE: ${{{{ github.event.pull_request.base.sha }}}}
          HEAD: ${{{{ github.event.pull_request.head.sha }}}}
        run: |
{_indent(REVIEW_STEP, 10)}      - name: The built emails
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: newsletter-review
          path: ${{{{ runner.temp }}}}/review/
          if-no-files-found: ignore
      - name: Comment on the pull request
        if: always()
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          PR: ${{{{ github.event.pull_request.number }}}}
        run: |
{_indent(COMMENT_STEP, 10)}"""
    )


def files(branch: str = "main") -> dict[str, str]:
    """Each workflow's path in the repository and its text (``branch``: the one merges send from)."""
    return {SEND_FILE: send_workflow(branch), REVIEW_FILE: review_workflow()}
