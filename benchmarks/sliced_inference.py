"""Sliced inference on whole camera frames: ours (batched tiles, border-aware merging) against SAHI's
``get_sliced_prediction`` and supervision's ``InferenceSlicer``, side by side in one run.

Every method runs the same exported model through the same engine (so the same pre/post-processing per tile), on
the same frames, at the same scale and overlap; the anchors get a callback that runs one tile (their batch
options are measured too). Ours runs twice: with tiles of the model's field (the anchors' tile size) and with its
default larger tiles at the same scale (an export that takes any input size; grace_core/engine/slicing.py).
Frames are mosaics of NEU-DET *validation* tiles (never trained on) laid on a steel-grey
background: 4096×2048 (20 × 10 tiles) and 8192×1024 (40 × 5), 200 tiles each, every box known.

Reported per method: recall at IoU 0.5 (class must match) against the same tiles inspected one by one, the number
of detections (what an operator would see), and megapixels per second on the 4096×2048 frame (median of runs).
The compute floor: the model's FLOPs for every tile of the frame over this CPU's measured fp32 matmul rate.

Targets (issue 16): recall on large frames ≥ 95 % of tile-by-tile recall; throughput ≥ 2× the faster anchor.
Pause background work first (kill -STOP), as for every benchmark.

    .venv/bin/pip install -e ".[bench]"      # SAHI and supervision (benchmark only)
    .venv/bin/python benchmarks/sliced_inference.py --data experiments/neu-det/data.yaml
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grace_core.data.mosaic import AnnotatedImage, compose_mosaic, load_voc_tiles
from grace_core.detections import Detections
from grace_core.engine import load_engine
from grace_core.engine.slicing import SliceConfig

FRAMES = ((4096, 2048, 20, 10), (8192, 1024, 40, 5))  # width, height, columns, rows


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def hits(truth: AnnotatedImage, found: Detections) -> int:
    """Ground-truth boxes matched by a detection of their class at IoU ≥ 0.5."""
    if not len(found) or not len(truth.boxes):
        return 0
    matched = (iou(truth.boxes, found.xyxy) >= 0.5) & (truth.classes[:, None] == found.class_id[None, :])
    return int(matched.any(axis=1).sum())


def val_tiles(data_yaml: Path, neu_det: Path, count: int, seed: int) -> list[AnnotatedImage]:
    from grace_core.data.stats import split_images
    from grace_core.data.yolo import names_from_yaml

    stems = sorted(p.stem for p in split_images(data_yaml)["val"])
    random.Random(seed).shuffle(stems)
    images = [neu_det / "IMAGES" / f"{stem}.jpg" for stem in stems[:count]]
    return load_voc_tiles(images, neu_det / "ANNOTATIONS", names_from_yaml(data_yaml))


# --------------------------------------------------------------------------------------------------- the anchors


def predict_many(engine, images: list[np.ndarray]) -> list[Detections]:
    """The engine on several slices in one runtime call (what the anchors' batch modes get): the same letterbox and
    decoding per slice as ``engine.predict``, one batched forward pass."""
    from grace_core.engine.processing import decode, letterbox

    placed = [letterbox(image, engine.info.imgsz) for image in images]
    raw, _ = engine.run(np.concatenate([tensor for tensor, _ in placed], axis=0))
    return [decode(raw[i : i + 1], box, engine.conf, engine.iou) for i, (_, box) in enumerate(placed)]


def sahi_predictor(engine, tile: int, overlap: float, batch: int) -> Callable[[np.ndarray], Detections]:
    from sahi.models.base import DetectionModel
    from sahi.predict import get_sliced_prediction
    from sahi.prediction import ObjectPrediction

    class EngineModel(DetectionModel):
        def load_model(self) -> None:
            self.model = engine

        def perform_inference(self, image: np.ndarray) -> None:
            self._original_predictions = engine.predict(np.ascontiguousarray(image[:, :, ::-1])).detections  # RGB in

        def perform_batch_inference(self, images: list[np.ndarray]) -> None:  # native batching, as SAHI allows
            self._batch_found = predict_many(engine, [np.ascontiguousarray(im[:, :, ::-1]) for im in images])

        def convert_original_predictions(self, shift_amount=None, full_shape=None) -> None:
            found = getattr(self, "_batch_found", None)
            if found is None:
                return super().convert_original_predictions(shift_amount, full_shape)
            per_image = []
            for i, detections in enumerate(found):
                self._original_predictions = detections
                self._create_object_prediction_list_from_original_predictions([shift_amount[i]], [full_shape[i]])
                per_image.extend(self._object_prediction_list_per_image)
            self._object_prediction_list_per_image, self._batch_found = per_image, None
            return None

        def _create_object_prediction_list_from_original_predictions(
            self, shift_amount_list=None, full_shape_list=None
        ):
            shift = (shift_amount_list or [[0, 0]])[0]
            full = (full_shape_list or [None])[0]
            found = self._original_predictions
            self._object_prediction_list_per_image = [
                [
                    ObjectPrediction(
                        bbox=box.tolist(),
                        category_id=int(c),
                        category_name=str(c),
                        score=float(s),
                        shift_amount=shift,
                        full_shape=full,
                    )
                    for box, s, c in zip(found.xyxy, found.confidence, found.class_id, strict=True)
                ]
            ]

    model = EngineModel(confidence_threshold=engine.conf, category_mapping={str(i): str(i) for i in range(99)})

    def predict(image: np.ndarray) -> Detections:
        result = get_sliced_prediction(
            image[:, :, ::-1],  # SAHI reads RGB
            model,
            slice_height=tile,
            slice_width=tile,
            overlap_height_ratio=overlap,
            overlap_width_ratio=overlap,
            perform_standard_pred=False,
            postprocess_type="GREEDYNMM",
            postprocess_match_metric="IOS",
            postprocess_match_threshold=0.5,
            verbose=0,
            batch_size=batch,
        )
        predictions = result.object_prediction_list
        if not predictions:
            return Detections.empty()
        return Detections(
            [p.bbox.to_xyxy() for p in predictions],
            [p.score.value for p in predictions],
            [p.category.id for p in predictions],
        )

    return predict


def supervision_predictor(engine, tile: int, overlap: float, batch: int) -> Callable[[np.ndarray], Detections]:
    import supervision as sv

    def one(image: np.ndarray) -> sv.Detections:
        found = engine.predict(image).detections
        return sv.Detections(xyxy=found.xyxy.copy(), confidence=found.confidence.copy(), class_id=found.class_id.copy())

    def many(images: list[np.ndarray]) -> list[sv.Detections]:
        return [
            sv.Detections(xyxy=f.xyxy.copy(), confidence=f.confidence.copy(), class_id=f.class_id.copy())
            for f in predict_many(engine, images)
        ]

    slicer = sv.InferenceSlicer(
        callback=many if batch > 1 else one,
        slice_wh=tile,
        overlap_wh=round(tile * overlap),
        overlap_filter="non_max_merge",
        overlap_metric="IOS",
        iou_threshold=0.5,
        batch_size=batch,
    )

    def predict(image: np.ndarray) -> Detections:
        found = slicer(image)
        if len(found) == 0:
            return Detections.empty()
        return Detections(found.xyxy, found.confidence, found.class_id)

    return predict


# --------------------------------------------------------------------------------------------------- measuring


def matmul_gflops(seconds: float = 2.0) -> float:
    """This CPU's fp32 matmul rate (GFLOP/s) with the engine's thread count: the ceiling any runtime can reach."""
    import torch

    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    for _ in range(3):
        a @ b
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        runs += 1
    return 2 * 1024**3 * runs / (time.perf_counter() - started) / 1e9


def model_gflops_per_tile(model: Path, imgsz: int) -> float | None:
    checkpoint = model.with_suffix(".pt") if model.suffix != ".pt" else model
    if not checkpoint.is_file():
        return None
    from grace_core.nn.summary import summarize_model_file

    return summarize_model_file(checkpoint, imgsz=imgsz).gflops  # ultralytics' count: 2 FLOPs per multiply-add


def timed_rounds(
    methods: dict[str, Callable[[np.ndarray], Detections]], image: np.ndarray, runs: int, seed: int
) -> dict[str, tuple[float, Detections]]:
    """Median seconds and the detections of each method: one warm-up each, then ``runs`` rounds, every round running
    every method once in a shuffled order after a short idle gap (runtime worker threads left spinning by one call
    otherwise slow the next one down)."""
    found = {name: predict(image) for name, predict in methods.items()}
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    order = list(methods)
    for round_index in range(runs):
        random.Random(seed + round_index).shuffle(order)
        for name in order:
            time.sleep(0.2)
            started = time.perf_counter()
            found[name] = methods[name](image)
            seconds[name].append(time.perf_counter() - started)
    return {name: (statistics.median(seconds[name]), found[name]) for name in methods}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="exported .onnx (default: the shipped one)")
    parser.add_argument("--data", type=Path, required=True, help="the NEU-DET data.yaml whose val split gives tiles")
    parser.add_argument("--neu-det", type=Path, default=Path("../shared/datasets/NEU-DET"))
    parser.add_argument("--overlap", type=float, default=SliceConfig().overlap)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per method on the 4096x2048 frame")
    parser.add_argument("--anchor-batch", type=int, nargs="+", default=[1, 8], help="batch sizes tried for anchors")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from grace_core.models import default_model

    model = args.model or default_model("onnxruntime")
    engine = load_engine(model)
    tile = SliceConfig().tile_size(engine.info.imgsz, engine.info.pixel_scale)
    tiles = val_tiles(args.data, args.neu_det, 200, args.seed)
    total = sum(len(t.boxes) for t in tiles)
    alone = sum(hits(t, engine.predict(t.image).detections) for t in tiles)
    alone_found = sum(len(engine.predict(t.image).detections) for t in tiles)
    print(f"model {engine.info.model_id} on {engine.info.backend}; tile {tile} px, overlap {args.overlap}")
    print(f"tile by tile: {alone} of {total} boxes found ({100 * alone / total:.1f} %), {alone_found} detections")

    from grace_core.engine.slicing import predict_sliced

    # One engine (one runtime session) serves every method.
    larger = SliceConfig(mode="always", overlap=args.overlap)
    field = SliceConfig(mode="always", overlap=args.overlap, window=engine.info.imgsz)
    methods: dict[str, Callable[[np.ndarray], Detections]] = {
        "ours (batched, field-sized tiles)": lambda im: predict_sliced(engine, im, field).detections,
    }
    if engine.any_size:
        methods["ours (batched, larger tiles)"] = lambda im: predict_sliced(engine, im, larger).detections
    for batch in args.anchor_batch:
        try:
            methods[f"SAHI (batch {batch})"] = sahi_predictor(engine, tile, args.overlap, batch)
            methods[f"supervision (batch {batch})"] = supervision_predictor(engine, tile, args.overlap, batch)
        except ImportError as error:
            print(f"anchors skipped: {error} (pip install -e '.[bench]')", file=sys.stderr)
            break

    rows = []
    for width, height, columns, rows_of_tiles in FRAMES:
        mosaic = compose_mosaic(tiles, width, height, columns, rows_of_tiles, seed=args.seed)
        results = timed_rounds(methods, mosaic.image, args.runs if width == 4096 else 1, args.seed)
        for name, (seconds, found) in results.items():
            rows.append((f"{width}x{height}", name, hits(mosaic, found), len(found), seconds, width * height))
    print()
    print("| frame | method | boxes found | of tile-by-tile | detections | s/frame | MP/s |")
    print("|---|---|---|---|---|---|---|")
    for frame, name, found, count, seconds, pixels in rows:
        print(
            f"| {frame} | {name} | {found}/{total} | {100 * found / max(alone, 1):.1f} % | {count} | "
            f"{seconds:.2f} | {pixels / seconds / 1e6:.2f} |"
        )
    for frame in dict.fromkeys(r[0] for r in rows):
        speeds = {r[1]: r[5] / r[4] for r in rows if r[0] == frame}
        anchors = max((v for k, v in speeds.items() if not k.startswith("ours")), default=None)
        if anchors:
            shown = ", ".join(f"{k}: {v / anchors:.2f}x" for k, v in speeds.items() if k.startswith("ours"))
            print(f"\n{frame}, against the faster anchor configuration: {shown}")
    gflops = model_gflops_per_tile(model, engine.info.imgsz)
    if gflops:
        peak = matmul_gflops()
        for name, config in (("field-sized tiles", field), ("larger tiles", larger)):
            if not engine.any_size and config is larger:
                continue
            pixels = network_pixels(engine, 4096, 2048, config)
            floor = pixels / engine.info.imgsz**2 * gflops / peak
            speed = next(r[5] / r[4] for r in rows if r[0] == "4096x2048" and name in r[1])
            print(
                f"compute floor, {name}: {pixels / 1e6:.1f} M network pixels x {gflops:.2f} GFLOP per "
                f"{engine.info.imgsz}² / {peak:.0f} GFLOP/s (fp32 matmul, this CPU) = {floor:.2f} s/frame = "
                f"{4096 * 2048 / floor / 1e6:.1f} MP/s; ours reaches {100 * speed / (4096 * 2048 / floor):.0f} % of it"
            )
    return 0


def network_pixels(engine, width: int, height: int, config: SliceConfig) -> int:
    """Network input pixels the engine computes for a frame: what it spends its time on."""
    sides = []
    original = engine.run_batch

    def counting(tensor):
        sides.extend([tensor.shape[2] * tensor.shape[3]] * len(tensor))
        return original(tensor)

    engine.run_batch = counting
    try:
        from grace_core.engine.slicing import predict_sliced

        predict_sliced(engine, np.zeros((height, width, 3), np.uint8), config)
    finally:
        del engine.run_batch
    return sum(sides)


if __name__ == "__main__":
    sys.exit(main())
