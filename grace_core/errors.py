"""User-facing errors.

A :class:`GraceError` is a problem with the user's input (a file, a flag, a dataset), not a bug. The CLI prints
its message — which must name the file and say what to do — and exits non-zero without a traceback.
"""

from __future__ import annotations


class GraceError(Exception):
    """A user error with a message fit to show as is."""


class DatasetError(GraceError):
    """A dataset cannot be read or imported (bad layout, unknown class, empty, output folder not empty...)."""


class ModelError(GraceError):
    """A model name, config or checkpoint cannot be resolved or loaded."""


class SourceError(GraceError):
    """A frame source (camera, stream, video, image folder, demo) cannot be opened or has failed for good."""


class StoreError(GraceError):
    """The review store cannot be opened or used (written by a newer version, not a database, a frame gone...)."""


class ReviewError(GraceError):
    """A review report cannot be made as asked (a time that cannot be read, an empty or reversed time range...)."""
