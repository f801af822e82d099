"""Sliced inference: the tile grid, merging across tile borders, batched = single-tile results, bounded memory."""

import tracemalloc

import numpy as np
import pytest

from grace_core.detections import Detections
from grace_core.engine.merging import LEFT, RIGHT, TileDetections, cut_sides, merge_tile_detections
from grace_core.engine.slicing import SliceConfig, Tile, axis_starts, plan_tiles
from grace_core.errors import GraceError


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(4096, 200, 0.25), (1000, 224, 0.2), (224, 224, 0.2), (90, 200, 0.25)]
)
def test_tiles_cover_the_frame_with_at_least_the_overlap(length, tile, overlap):
    starts = axis_starts(length, tile, overlap)
    assert starts[0] == 0 and min(starts[-1] + tile, length) == length
    steps = np.diff(starts)
    assert (steps <= tile * (1 - overlap) + 1).all() and (steps > 0).all()


def test_a_grid_is_row_major_and_stays_inside_the_frame():
    grid = plan_tiles(1000, 450, 200, 0.25)
    assert grid[0] == Tile(0, 0, 200, 200) and grid[-1].x1 == 1000 and grid[-1].y1 == 450
    assert all(0 <= t.x0 < t.x1 <= 1000 and 0 <= t.y0 < t.y1 <= 450 for t in grid)
    assert [t.y0 for t in grid] == sorted(t.y0 for t in grid)


def test_only_frames_larger_than_a_tile_are_sliced_and_settings_are_checked():
    auto = SliceConfig()
    assert not auto.slices(200, 200, 224, model_scale=1.12)  # a NEU-DET tile: today's path
    assert auto.slices(4096, 2048, 224, model_scale=1.12)
    assert auto.tile_size(224, 1.12) == 200 and SliceConfig(pixel_scale=0.5).tile_size(224, 1.12) == 448
    assert SliceConfig(mode="always").slices(100, 100, 224) and not SliceConfig(mode="never").slices(9000, 9000, 224)
    for bad in (dict(overlap=0.95), dict(tile=8), dict(pixel_scale=0), dict(mode="sometimes")):
        with pytest.raises(GraceError):
            SliceConfig(**bad)


def part(tile: Tile, *boxes) -> TileDetections:
    """Detections of one tile: each box (x1, y1, x2, y2, score, class)."""
    rows = np.array(boxes, dtype=np.float32).reshape(-1, 6)
    return TileDetections(tile, Detections(rows[:, :4], rows[:, 4], rows[:, 5]))


LEFT_TILE, RIGHT_TILE = Tile(0, 0, 200, 200), Tile(150, 0, 350, 200)


def test_a_box_touching_an_inner_tile_border_is_cut_there_and_not_at_the_frame_edge():
    boxes = np.array([[100, 50, 199, 80], [0, 50, 40, 80], [60, 60, 90, 90]], dtype=np.float32)
    assert cut_sides(boxes, LEFT_TILE, 350, 200).tolist() == [RIGHT, 0, 0]
    assert cut_sides(np.array([[150, 50, 220, 80]], np.float32), RIGHT_TILE, 350, 200).tolist() == [LEFT]


def test_pieces_of_a_scratch_cut_by_a_border_become_one_box():
    """A slender scratch from x=60 to x=300: each tile sees a piece ending at its border; IoU of the pieces is small."""
    merged = merge_tile_detections(
        [part(LEFT_TILE, (60, 95, 200, 105, 0.6, 5)), part(RIGHT_TILE, (150, 96, 300, 104, 0.8, 5))], 350, 200, 0.7
    )
    assert len(merged) == 1
    assert merged.xyxy[0].tolist() == [60, 95, 300, 105] and merged.confidence[0] == pytest.approx(0.8)


def test_a_defect_in_the_overlap_seen_twice_is_reported_once():
    merged = merge_tile_detections(
        [part(LEFT_TILE, (160, 20, 190, 50, 0.9, 1)), part(RIGHT_TILE, (161, 21, 190, 51, 0.7, 1))], 350, 200, 0.7
    )
    assert len(merged) == 1 and merged.confidence[0] == pytest.approx(0.9)


def test_a_piece_inside_a_whole_view_of_the_defect_is_dropped():
    whole = part(RIGHT_TILE, (170, 40, 260, 120, 0.9, 2))  # the right tile sees the patch whole
    piece = part(LEFT_TILE, (170, 45, 200, 118, 0.5, 2))  # the left tile sees only its start, cut by its border
    merged = merge_tile_detections([whole, piece], 350, 200, 0.7)
    assert merged.xyxy.tolist() == [[170, 40, 260, 120]]


def test_distinct_defects_stay_distinct():
    """Different classes, or pieces that do not line up across the border, or whole boxes: no joining."""
    other_class = [part(LEFT_TILE, (60, 95, 200, 105, 0.6, 5)), part(RIGHT_TILE, (150, 96, 300, 104, 0.8, 4))]
    assert len(merge_tile_detections(other_class, 350, 200, 0.7)) == 2
    misaligned = [part(LEFT_TILE, (100, 10, 200, 40, 0.6, 5)), part(RIGHT_TILE, (150, 35, 300, 90, 0.8, 5))]
    assert len(merge_tile_detections(misaligned, 350, 200, 0.7)) == 2
    small_inside_large = [part(LEFT_TILE, (20, 20, 120, 120, 0.9, 3), (40, 40, 60, 60, 0.5, 3))]
    assert len(merge_tile_detections(small_inside_large, 350, 200, 0.7)) == 2  # seen whole: a pit in a pit area


def test_a_scratch_across_three_tiles_is_one_box():
    tiles = [Tile(0, 0, 200, 200), Tile(150, 0, 350, 200), Tile(300, 0, 500, 200)]
    pieces = [
        part(tiles[0], (10, 100, 200, 110, 0.7, 5)),
        part(tiles[1], (150, 101, 350, 109, 0.6, 5)),
        part(tiles[2], (300, 100, 480, 110, 0.9, 5)),
    ]
    merged = merge_tile_detections(pieces, 500, 200, 0.7)
    assert merged.xyxy.tolist() == [[10, 100, 480, 110]]


# --------------------------------------------------------------------------------------------- with real engines


@pytest.fixture(scope="module")
def engine(exported):
    from grace_core.engine import load_engine

    return load_engine(exported["onnxruntime"], conf=0.05)


def test_batched_tiles_give_the_same_detections_as_one_tile_at_a_time(engine, steel_images):
    from grace_core.engine.slicing import predict_sliced

    mosaic = np.concatenate([np.concatenate(steel_images[:1] * 3, axis=1)] * 2, axis=0)  # 600 x 400
    batched = predict_sliced(engine, mosaic, SliceConfig(mode="always", batch=8))
    single = predict_sliced(engine, mosaic, SliceConfig(mode="always", batch=1))
    assert len(batched.tiles) > 4 and batched.tiles == single.tiles
    assert len(batched.detections) > 0
    assert np.allclose(batched.detections.xyxy, single.detections.xyxy, atol=0.05)
    assert np.allclose(batched.detections.confidence, single.detections.confidence, atol=1e-4)
    assert np.allclose(batched.heatmap, single.heatmap, atol=1e-5)


def test_a_runtime_without_a_batch_axis_gets_one_tile_per_call(engine, steel_images):
    calls = []
    original = engine.run_batch

    def one_at_a_time(tensor):
        calls.append(len(tensor))
        return original(tensor)

    engine.run_batch, engine.max_batch = one_at_a_time, 1
    try:
        prediction = engine.predict(np.concatenate(steel_images[:1] * 4, axis=1))
    finally:
        del engine.run_batch
        engine.max_batch = None
    assert set(calls) == {1} and len(calls) == len(prediction.tiles) > 1


def test_a_small_frame_keeps_the_single_image_path(engine, steel_images):
    small = np.ascontiguousarray(steel_images[0][:120, :150])  # the test model's tile is 128: within the slack
    prediction = engine.predict(small)
    assert prediction.tiles == () and prediction.heatmap.shape == small.shape[:2]


def test_a_huge_frame_gets_a_bounded_heatmap_and_overlay_without_full_size_float_copies(engine):
    from grace_core.render import annotate

    frame = np.full((4096, 8192, 3), 128, np.uint8)
    engine.slicing = SliceConfig(heat_max_side=1024, overlap=0.0)
    try:
        prediction = engine.predict(frame)
    finally:
        engine.slicing = SliceConfig()
    assert prediction.heatmap.shape == (512, 1024)
    tracemalloc.start()
    try:
        annotated = annotate(frame, prediction.detections, engine.info.class_names, prediction.heatmap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert annotated.shape == frame.shape
    assert peak < 3 * frame.nbytes  # the output and its copy for the boxes; a float32 copy alone would be 4x


class BlobDetector:
    """A perfect detector of bright rectangles, with the engine's interface: it finds the bright pixels of each
    letterboxed tile and reports their bounding box as class 0. Whatever merging does is then plain to see."""

    def __init__(self, imgsz: int = 128) -> None:
        from grace_core.engine.base import EngineInfo

        self.info = EngineInfo("fake", ("scratch",), imgsz, "fake", "fake", has_heatmap=False)
        self.conf, self.iou = 0.25, 0.7

    def run(self, tensor: np.ndarray):
        raw = np.zeros((len(tensor), 5, 1), np.float32)
        for i, image in enumerate(tensor):
            ys, xs = np.nonzero(image[0] > 0.9)
            if len(xs):
                x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                raw[i, :, 0] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0.9]
        return raw, None


@pytest.mark.parametrize(
    "scratch",
    [(20, 60, 470, 66), (100, 10, 108, 330), (95, 95, 140, 140)],  # across three tiles, down two, on a tile corner
)
def test_a_defect_cut_by_tile_borders_is_found_once_and_whole(scratch):
    from grace_core.engine.slicing import predict_sliced

    frame = np.zeros((360, 500, 3), np.uint8)
    x1, y1, x2, y2 = scratch
    frame[y1:y2, x1:x2] = 255
    found = predict_sliced(BlobDetector(), frame, SliceConfig(mode="always", tile=128, overlap=0.2)).detections
    assert len(found) == 1
    assert found.xyxy[0] == pytest.approx(np.array(scratch, np.float32), abs=1.0)


def test_the_shipped_model_finds_the_demo_defects_in_one_large_frame():
    """The demo's NEU-DET tiles laid into one frame: sliced, as many boxes are found as tile by tile; letterboxed
    whole (today's path before slicing), almost none."""
    from grace_core.data.mosaic import compose_mosaic, load_voc_tiles
    from grace_core.engine import load_engine
    from grace_core.models import default_model
    from grace_core.sources.demo import demo_dir

    engine = load_engine(default_model("onnxruntime"))
    images = sorted(demo_dir().glob("*.jpg"))
    tiles = load_voc_tiles(images, demo_dir() / "annotations", engine.info.class_names)
    mosaic = compose_mosaic(tiles, 1700, 650, 8, 3)

    def found(truth_boxes, truth_classes, detections) -> int:
        if not len(detections):
            return 0
        tl = np.maximum(truth_boxes[:, None, :2], detections.xyxy[None, :, :2])
        br = np.minimum(truth_boxes[:, None, 2:], detections.xyxy[None, :, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=2)
        area = lambda b: np.prod(b[:, 2:] - b[:, :2], axis=1)  # noqa: E731
        iou = inter / (area(truth_boxes)[:, None] + area(detections.xyxy)[None, :] - inter)
        return int(((iou >= 0.5) & (truth_classes[:, None] == detections.class_id[None, :])).any(axis=1).sum())

    alone = sum(found(t.boxes, t.classes, engine.predict(t.image).detections) for t in tiles)
    sliced = found(mosaic.boxes, mosaic.classes, engine.predict(mosaic.image).detections)
    engine.slicing = SliceConfig(mode="never")
    whole = found(mosaic.boxes, mosaic.classes, engine.predict(mosaic.image).detections)
    assert alone >= 10
    assert sliced >= 0.9 * alone
    assert whole <= 0.3 * alone
