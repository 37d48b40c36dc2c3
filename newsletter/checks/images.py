"""Image rules: alt text for every image that carries meaning, https, a width, and
not too many of them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from newsletter.checks import html as H
from newsletter.checks.context import CheckContext, ImageRef
from newsletter.checks.finding import Finding
from newsletter.checks.registry import check, rule

FAMILY = "images"

IMAGE_ALT = rule("image-alt", "error", "An image has no alt text and is not marked decorative.", family=FAMILY)
IMAGE_HTTP = rule("image-http", "warning", "An image is loaded over http, not https.", family=FAMILY)
IMAGE_WIDTH = rule("image-width", "warning", "An image has no width.", family=FAMILY)
IMAGE_COUNT = rule("image-count", "warning", "The email has more than a few images.", family=FAMILY)


def _from_markdown(image: ImageRef) -> bool:
    return image.source is not None and not image.where.field.endswith("src")


@check(FAMILY)
def alt_text(ctx: CheckContext) -> Iterator[Finding]:
    for image in ctx.images:
        alt = image.alt
        if alt is not None and alt.strip():
            continue
        if alt is not None and image.source is not None and image.source.decorative:
            continue  # said so explicitly: decorative: true
        if _from_markdown(image):
            hint = "describe the image between the brackets: ![what it shows](address)"
        else:
            hint = "describe the image in alt:, or set decorative: true if it adds nothing"
        missing = "no alt attribute" if alt is None else "empty alt text"
        yield IMAGE_ALT(f"the image {image.src} has {missing}", image.where, hint)


@check(FAMILY)
def transport_and_size(ctx: CheckContext) -> Iterator[Finding]:
    for image in ctx.images:
        if urlsplit(image.src).scheme.lower() == "http":
            yield IMAGE_HTTP(
                f"the image {image.src} is loaded over http",
                image.where,
                "use its https:// address: clients block or warn about insecure images",
            )
        if not (image.element.get("width") or "").strip():
            hint = (
                "use an image block with width: instead of a Markdown image"
                if _from_markdown(image)
                else "set width: (in pixels, at most 600)"
            )
            yield IMAGE_WIDTH(
                f"the image {image.src} has no width: Outlook shows it at its full size",
                image.where,
                hint,
            )


@check(FAMILY)
def count(ctx: CheckContext) -> Iterator[Finding]:
    shown = [image for image in ctx.images if not H.is_hidden(image.element)]
    limit = ctx.settings.check.max_images
    if len(shown) > limit:
        yield IMAGE_COUNT(
            f"the email has {len(shown)} images (more than {limit}): it loads slowly, and many "
            "clients show none until the reader allows them",
            ctx.issue_at(("blocks",)),
            "keep the few that matter; the words must make sense without them",
        )
