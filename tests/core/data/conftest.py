"""Small generated sources for the dataset tests (written into tmp_path; no Qt, no network)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

Obj = tuple[str, float, float, float, float]


def _write_image(path: Path, width: int = 64, height: int = 48, value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((height, width, 3), value, np.uint8)
    image[::4] = value // 2  # some structure so JPEGs are not trivial
    assert cv2.imwrite(str(path), image)
    return path


def _voc_xml(filename: str, objects: Sequence[Obj], size: tuple[int, int] = (64, 48), difficult: bool = False) -> str:
    parts = [
        "<annotation>",
        f"  <filename>{filename}</filename>",
        f"  <size><width>{size[0]}</width><height>{size[1]}</height><depth>1</depth></size>",
    ]
    for name, xmin, ymin, xmax, ymax in objects:
        parts += [
            "  <object>",
            f"    <name>{name}</name>",
            f"    <difficult>{int(difficult)}</difficult>",
            f"    <bndbox><xmin>{xmin:g}</xmin><ymin>{ymin:g}</ymin>",
            f"      <xmax>{xmax:g}</xmax><ymax>{ymax:g}</ymax></bndbox>",
            "  </object>",
        ]
    parts.append("</annotation>")
    return "\n".join(parts) + "\n"


def _add_voc(
    root: Path,
    stem: str,
    objects: Sequence[Obj],
    *,
    size: tuple[int, int] = (64, 48),
    images: str = "IMAGES",
    annotations: str = "ANNOTATIONS",
    image: bool = True,
    suffix: str = ".png",
    difficult: bool = False,
) -> Path:
    """Add one image + VOC XML under ``root`` (NEU-DET layout by default); returns the XML path."""
    xml = root / annotations / f"{stem}.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.write_text(_voc_xml(stem + suffix, objects, size, difficult), encoding="utf-8")
    if image:
        _write_image(root / images / f"{stem}{suffix}", *size)
    return xml


@pytest.fixture
def neu_source(tmp_path: Path) -> Path:
    """A tiny NEU-DET-layout source: 3 clean images per class (18 boxes)."""
    root = tmp_path / "src"
    classes = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
    for index, name in enumerate(classes):
        for copy in range(3):
            _add_voc(root, f"{name}_{copy}", [(name, 4 + index, 5, 40 + copy, 30)])
    return root


def _read_labels(out: Path) -> dict[str, str]:
    """label file (split/stem) -> text, for the whole output dataset."""
    return {f"{path.parent.name}/{path.stem}": path.read_text() for path in sorted((out / "labels").glob("*/*.txt"))}


# The helpers are handed out as fixtures so that no test module imports ``conftest`` (import-mode independent).
@pytest.fixture
def add_voc():
    return _add_voc


@pytest.fixture
def write_image():
    return _write_image


@pytest.fixture
def read_labels():
    return _read_labels
