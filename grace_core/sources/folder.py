"""An image folder played as a video: image files in natural order (img2 before img10), unreadable ones skipped.

The folder is listed once, at open; files added later are not picked up. Sub-folders and non-image files are
ignored.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from grace_core.data.records import IMAGE_SUFFIXES
from grace_core.errors import SourceError
from grace_core.sources.convert import ImageTooLarge, decode_image_file
from grace_core.sources.playback import Item, PlaybackSource
from grace_core.sources.types import SourceInfo

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[list[int | str], str]:
    """Sort key that orders numbers by value: ``img2`` < ``img10``; case-insensitive, ties broken by the name."""
    parts: list[int | str] = [int(p) if p.isdigit() else p.lower() for p in _DIGITS.split(name)]
    return parts, name


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` (by suffix, hidden files skipped), naturally sorted."""
    files = [
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]
    return sorted(files, key=lambda p: natural_key(p.name))


class FolderSource(PlaybackSource):
    """Images of ``path`` as frames; ``fps`` paces them (None: unpaced), ``loop`` starts over at the end.

    A corrupt or unreadable image, or one whose header claims more than ``max_pixels`` pixels (default
    :func:`~grace_core.sources.convert.max_pixels`), is skipped with a warning naming it and counted in
    ``stats()["skipped"]`` (once per file, however often it loops).
    """

    def __init__(
        self, path: str | Path, *, fps: float | None = None, loop: bool = False, max_pixels: int | None = None
    ) -> None:
        folder = Path(path).expanduser()
        if folder.is_file() and folder.suffix.lower() in IMAGE_SUFFIXES:  # one image: a folder of one
            self.files, folder = [folder], folder.parent
        elif not folder.is_dir():
            raise SourceError(f"{folder}: no such folder; choose an existing folder of images.")
        else:
            self.files = []
        try:
            self.files = self.files or list_images(folder)
        except OSError as error:
            raise SourceError(
                f"{folder}: cannot list the folder ({error.strerror or error}); check permissions."
            ) from None
        if not self.files:
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise SourceError(f"{folder}: no images in this folder (looked for {suffixes}); choose another folder.")
        super().__init__(f"folder:{folder}", fps=fps, loop=loop)
        self.folder = folder
        self._fps = fps
        self._position = 0
        self._unreadable: set[Path] = set()
        self.max_pixels = max_pixels

    @property
    def info(self) -> SourceInfo:
        description = f"Image folder {self.folder} ({len(self.files)} images)"
        return SourceInfo(
            fps=self._fps, size=self._size, length=len(self.files), live=False, description=description, sequence=False
        )

    def _next_item(self) -> Item | None:
        while self._position < len(self.files):
            path = self.files[self._position]
            self._position += 1
            if path in self._unreadable:  # warned and counted on an earlier pass
                continue
            try:
                image = decode_image_file(str(path), self.max_pixels)
                problem = f"{path}: unreadable or corrupt image, skipped"
            except ImageTooLarge as error:  # one hostile or huge file must not end the run
                image, problem = None, f"skipped {error}"
            if image is not None:
                return image, {"path": str(path), "name": path.name}
            self._unreadable.add(path)
            self._counters["skipped"] += 1
            log.warning("%s", problem)
        return None

    def _rewind(self) -> None:
        self._position = 0

    def _empty_pass_message(self) -> str:
        return f"{self.folder}: none of its {len(self.files)} images could be read; check the files."

    def _release(self) -> None:
        """Nothing to hold: each image is read on demand."""
