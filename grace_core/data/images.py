"""Image checks that avoid keeping large images in memory: size from the header, decode at reduced scale."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image

from grace_core.data.records import SkipFile


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) read from the file header only; raises OSError/ValueError when it is not an image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            return image.size


def verify_image(path: Path) -> tuple[int, int]:
    """Decode ``path`` fully (JPEG at 1/8 scale: every byte is still read) and return its (width, height).

    A truncated or corrupt file raises :class:`SkipFile` (kind ``unreadable_image``). The pixels are discarded.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                size = image.size
                if image.format == "JPEG":
                    image.draft(image.mode, (max(1, size[0] // 8), max(1, size[1] // 8)))
                image.load()
    except FileNotFoundError:
        raise SkipFile("missing_image", f"{path}: image file not found") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, ImportError) as error:
        # ImportError: once ultralytics is imported, PIL.Image.open retries unidentifiable files through the
        # optional pi-heif plugin and raises ModuleNotFoundError when that is not installed.
        raise SkipFile("unreadable_image", f"{path}: unreadable or corrupt image ({error})") from None
    if size[0] <= 0 or size[1] <= 0:
        raise SkipFile("unreadable_image", f"{path}: image has no pixels ({size[0]}x{size[1]})")
    return size
