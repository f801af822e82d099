"""Strip (line-scan) mode: segments stitched with overlap, each defect reported once, whole, at its strip position."""

import itertools

import cv2
import numpy as np
import pytest

from grace_core.detections import Detections
from grace_core.strip import STRIP_ROW, StripScale, StripStitcher
from grace_core.types import Frame

WIDTH, SEGMENT = 300, 200
# x1, y1, x2, y2 on the strip: inside a segment; across the edge at row 400; across two edges (longer than a
# segment); ending exactly on the edge at row 800; starting exactly on it.
DEFECTS = [(20, 30, 60, 90), (100, 370, 140, 430), (200, 150, 215, 760), (30, 780, 80, 800), (150, 800, 190, 850)]


def strip_image(length: int = 1200) -> np.ndarray:
    image = np.zeros((length, WIDTH, 3), np.uint8)
    for x1, y1, x2, y2 in DEFECTS:
        image[y1:y2, x1:x2] = 255
    return image


def blobs(image: np.ndarray) -> Detections:
    """A perfect detector: every bright connected region, class 0, score 0.9."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((image[:, :, 0] > 128).astype(np.uint8))
    boxes = [(x, y, x + w, y + h) for x, y, w, h, _ in stats[1:count]]
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9), np.zeros(len(boxes)))


def inspect_strip(image: np.ndarray, stitcher: StripStitcher, segments: list[int] | None = None):
    """Feed the strip segment by segment (``segments``: the indices to deliver; others are dropped frames)."""
    count = image.shape[0] // SEGMENT
    reported = []
    for index in segments if segments is not None else range(count):
        frame = Frame(image[index * SEGMENT : (index + 1) * SEGMENT], index, 0.0, "strip", {STRIP_ROW: index * SEGMENT})
        combined = stitcher.assemble(frame)
        reported += stitcher.report(combined, blobs(combined.image)).defects
    return reported + list(stitcher.finish())


def test_every_defect_is_reported_once_whole_at_its_strip_position():
    stitcher = StripStitcher(overlap=120, scale=StripScale(mm_per_px_along=0.5, mm_per_px_across=0.25))
    reported = inspect_strip(strip_image(), stitcher)
    boxes = sorted(tuple(round(v) for v in d.box) for d in reported)
    assert boxes == sorted(DEFECTS)
    long_one = next(d for d in reported if round(d.box[1]) == 150)
    assert long_one.along_m == pytest.approx((150 + 760) / 2 * 0.5 / 1000)
    assert long_one.across_mm == pytest.approx((200 + 215) / 2 * 0.25)


def test_the_combined_image_carries_the_previous_rows():
    stitcher = StripStitcher(overlap=50)
    image = strip_image()
    first = stitcher.assemble(Frame(image[:SEGMENT], 0, 0.0, "s"))
    second = stitcher.assemble(Frame(image[SEGMENT : 2 * SEGMENT], 1, 0.0, "s"))
    assert first.image.shape[0] == SEGMENT and first.meta[STRIP_ROW] == 0
    assert second.image.shape[0] == SEGMENT + 50 and second.meta[STRIP_ROW] == SEGMENT - 50
    assert np.array_equal(second.image, image[SEGMENT - 50 : 2 * SEGMENT])


def test_a_dropped_segment_loses_nothing_already_seen():
    """Segment 2 (rows 400-600) never arrives: the piece of the defect at rows 370-400 is still reported, and the
    next segment starts afresh (nothing is stitched across the gap)."""
    stitcher = StripStitcher(overlap=120)
    reported = inspect_strip(strip_image(), stitcher, segments=[0, 1, 3, 4, 5])
    boxes = {tuple(round(v) for v in d.box) for d in reported}
    assert (100, 370, 140, 400) in boxes  # the part seen before the gap
    assert (20, 30, 60, 90) in boxes and (150, 800, 190, 850) in boxes


def scripted(stitcher: StripStitcher, boxes_per_segment: list[list[tuple]]) -> list:
    """Feed blank segments to ``stitcher`` with these detections (class 0, combined-image pixels) for each."""
    reported = []
    for index, boxes in enumerate(boxes_per_segment):
        frame = Frame(np.zeros((SEGMENT, WIDTH, 3), np.uint8), index, 0.0, "s", {STRIP_ROW: index * SEGMENT})
        combined = stitcher.assemble(frame)
        xyxy = np.array(boxes, np.float32).reshape(-1, 4)
        detections = Detections(xyxy, np.full(len(boxes), 0.9), np.zeros(len(boxes)))
        reported += stitcher.report(combined, detections).defects
    return reported + list(stitcher.finish())


def test_a_waiting_piece_on_a_defect_already_reported_is_not_reported_again():
    """Two boxes of one defect: one ends above the bottom edge (reported), the other touches it (waits for the next
    segment). Nothing continues the waiting one: it is the reported defect seen again, not a second defect."""
    reported = scripted(StripStitcher(overlap=120), [[(10, 150, 30, 190), (11, 152, 31, 199)], []])
    assert [tuple(round(v) for v in d.box) for d in reported] == [(10, 150, 30, 190)]


def test_a_long_defect_reaching_back_over_a_reported_one_is_not_counted_twice():
    """A long piece waits, segment after segment, while a small box on it was reported at once; when the long one
    is finally reported its box reaches back over the small one: one defect, already counted."""
    segments = [
        [(100, 20, 120, 60), (100, 10, 130, 199)],  # the small box (reported) and the long piece (waits: bottom edge)
        [(100, 0, 130, 319)],  # combined rows 80-400: the long piece goes on to the bottom edge again
        [(100, 0, 130, 150)],  # combined rows 280-600: it ends at strip row 430
    ]
    reported = scripted(StripStitcher(overlap=120), segments)
    assert [tuple(round(v) for v in d.box) for d in reported] == [(100, 20, 120, 60)]


def test_without_overlap_a_defect_on_an_edge_is_still_one_box():
    reported = inspect_strip(strip_image(), StripStitcher(overlap=0))
    crossing = [d for d in reported if d.box[0] == 100]
    assert [tuple(round(v) for v in d.box) for d in crossing] == [(100, 370, 140, 430)]


def test_the_demo_strip_is_inspected_as_a_line_scan_with_positions():
    """The app's demo: a wide strip of NEU-DET images, segments stitched and sliced; every reported defect has a
    position along the strip, and no defect is reported again by a later segment."""
    from grace_core.engine import load_engine
    from grace_core.inspection import InspectionSession
    from grace_core.models import default_model
    from grace_core.sources.demo import DemoSource

    source = DemoSource(mode="strip", fps=1000, noise=0)
    strip_rows = source._strip_length
    engine = load_engine(default_model("onnxruntime"))
    session = InspectionSession(source, "unused", engine_loader=lambda *a: engine, source_opener=lambda spec: spec)
    reported = []  # (segment, defect) of the first pass over the strip
    for update in session.run():
        result = getattr(update, "result", None)
        if result is None:
            continue
        assert result.prediction.tiles, "a 1200-pixel-wide strip is sliced"
        segment = result.frame.meta["strip_row"]
        reported += [(segment, d) for d in result.strip.defects if d.box[1] < strip_rows and d.confidence >= 0.25]
        if segment > strip_rows:
            session.stop()
    assert len(reported) >= 10
    assert all(d.along_m == pytest.approx((d.box[1] + d.box[3]) / 2 * 0.25 / 1000) for _, d in reported)
    for (segment_a, a), (segment_b, b) in itertools.combinations(reported, 2):
        if a.class_id == b.class_id and segment_a != segment_b:  # one defect, reported by two segments?
            box_a, box_b = np.array(a.box), np.array(b.box)
            inter = np.prod(np.clip(np.minimum(box_a[2:], box_b[2:]) - np.maximum(box_a[:2], box_b[:2]), 0, None))
            smaller = min(np.prod(box_a[2:] - box_a[:2]), np.prod(box_b[2:] - box_b[:2]))
            assert inter / smaller < 0.5, (a, b)
