"""Illustrations of FAQ articles: checked, re-encoded and stored in the database.

An upload must be a PNG, JPEG or WebP file that Pillow can decode. It is
re-encoded in the same format, so camera metadata (EXIF, GPS position) and
anything appended to the file are dropped, and scaled down when wider or
taller than MAX_SIDE pixels. Every image needs alt text.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from kb.articles import ArticleError
from kb.faq_models import ArticleImage
from kb.models import Article

# Below the 2 MB request limit (MAX_CONTENT_LENGTH in admin.security), so that this
# check, and not a bare 413 error, tells the editor that the file is too large.
MAX_UPLOAD_BYTES = 1_500_000
MAX_PIXELS = 25_000_000  # refuse decompression bombs before decoding
MAX_SIDE = 1600
MAX_ALT_LENGTH = 300
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class ImageError(ArticleError):
    """An upload cannot be used as an illustration; the message names the problem and the fix."""


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """Check and re-encode an upload; return (bytes, content type, width, height)."""
    if not data:
        raise ImageError("the file is empty: choose a PNG, JPEG or WebP image.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(f"the file has {len(data)} bytes: upload at most {MAX_UPLOAD_BYTES} bytes (1.5 MB).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            if image_format not in FORMATS:
                raise ImageError(f"the file is {image_format or 'not an image'}: upload a PNG, JPEG or WebP image.")
            if width * height > MAX_PIXELS:
                raise ImageError(f"the image has {width}x{height} pixels: upload at most {MAX_PIXELS:,} pixels.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            return _save(image, image_format)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ImageError("the file is not a readable image: upload a PNG, JPEG or WebP image.") from None


def _save(image: Image.Image, image_format: str) -> tuple[bytes, str, int, int]:
    output = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        if image.mode not in {"1", "L", "LA", "P", "RGB", "RGBA"}:
            image = image.convert("RGBA")
        image.save(output, "PNG", optimize=True)
    else:
        image.save(output, "WEBP", quality=85)
    return output.getvalue(), FORMATS[image_format], image.width, image.height


def add_image(session: Session, article: Article, data: bytes, alt: str, user: User | None) -> ArticleImage:
    """Store a checked, re-encoded illustration at the end of the article's images."""
    alt = " ".join((alt or "").split())
    if not alt:
        raise ImageError("the image has no alt text: describe what it shows for readers who cannot see it.")
    if len(alt) > MAX_ALT_LENGTH:
        raise ImageError(f"the alt text has {len(alt)} characters: use at most {MAX_ALT_LENGTH}.")
    encoded, content_type, width, height = reencode(data)
    position = session.scalar(
        select(func.coalesce(func.max(ArticleImage.position), 0)).where(ArticleImage.article_id == article.id)
    )
    image = ArticleImage(
        article_id=article.id,
        position=position + 1,
        content_type=content_type,
        data=encoded,
        sha256=hashlib.sha256(encoded).hexdigest(),
        width=width,
        height=height,
        alt=alt,
        uploaded_by_id=user.id if user is not None else None,
    )
    session.add(image)
    session.flush()
    return image


def article_images(session: Session, article_id: int) -> list[ArticleImage]:
    return list(
        session.scalars(
            select(ArticleImage).where(ArticleImage.article_id == article_id).order_by(ArticleImage.position, ArticleImage.id)
        )
    )


def remove_image(session: Session, article: Article, image_id: int) -> None:
    image = session.get(ArticleImage, image_id)
    if image is None or image.article_id != article.id:
        raise ImageError(f"image {image_id} does not belong to article {article.language}/{article.slug}.")
    session.delete(image)
    session.flush()
