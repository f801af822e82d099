"""Box checks against the image: drop empty boxes, clip boxes that stick out, drop boxes entirely outside."""

from __future__ import annotations

from grace_core.data.records import Box, Issue


def _coords(box: Box) -> str:
    return f"xmin={box.x1:g}, ymin={box.y1:g}, xmax={box.x2:g}, ymax={box.y2:g}"


def check_box(
    box: Box, width: int, height: int, where: str, shown: str | None = None
) -> tuple[Box | None, Issue | None]:
    """Return the usable box (maybe clipped) or None, and the issue to count, if any.

    ``where`` names the file and object (``a.xml: object #2 'pit'``); ``shown`` replaces the pixel coordinates
    in messages when the source wrote other numbers (YOLO's normalised values).
    """
    text = shown or _coords(box)
    if box.x2 <= box.x1 or box.y2 <= box.y1:
        kind = "zero-area" if box.x2 == box.x1 or box.y2 == box.y1 else "negative-area"
        return None, Issue("zero_area_box", f"{where}: {kind} box ({text}); box dropped")
    clipped = Box(
        box.class_id,
        min(max(box.x1, 0.0), width),
        min(max(box.y1, 0.0), height),
        min(max(box.x2, 0.0), width),
        min(max(box.y2, 0.0), height),
    )
    if clipped == box:
        return box, None
    if clipped.x2 <= clipped.x1 or clipped.y2 <= clipped.y1:
        message = f"{where}: box entirely outside the {width}x{height} image ({text}); box dropped"
        return None, Issue("box_outside", message)
    message = f"{where}: box partly outside the {width}x{height} image ({text}); clipped to ({_coords(clipped)})"
    return clipped, Issue("box_clipped", message)
