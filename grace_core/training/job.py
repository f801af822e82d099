"""``TrainJob``: the settings of one training run, checked before anything heavy starts, saved with the run."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from grace_core.errors import DatasetError, GraceError
from grace_core.paths import user_data_dir

JOB_FILE = "grace_job.json"  # in the run folder


def default_project() -> Path:
    return user_data_dir() / "runs"


@dataclass
class TrainJob:
    """Everything ``grace train`` needs. ``resume`` is a ``last.pt`` path (the other fields then come from the run)."""

    data: str = ""
    model: str = "grace-s"
    epochs: int = 100
    imgsz: int = 640
    batch: int = 16
    device: str = "cpu"
    seed: int = 0
    sampler: str = "dscbsm"
    weights: str | None = None
    project: str = field(default_factory=lambda: str(default_project()))
    name: str | None = None
    workers: int = 2
    patience: int = 100
    hours: float | None = None  # time budget: ultralytics fits the epoch count (and LR schedule) to it
    dscbsm_warmup: int = 3
    dscbsm_loss_weighting: bool = False
    dscbsm_signal: str = "bce"  # "bce" (|p − t|) or "localization" (1 − t̄): see docs/method.md
    resume: str | None = None
    extra: dict = field(default_factory=dict)  # further ultralytics overrides (e.g. {"mosaic": 0.5})

    def check(self) -> None:
        """Raise a :class:`GraceError` naming the first impossible setting."""
        if self.resume:
            if not Path(self.resume).is_file():
                raise GraceError(f"nothing to resume: {self.resume} does not exist (pass a run's weights/last.pt)")
            return
        if self.epochs <= 0:
            raise GraceError(f"--epochs must be at least 1, got {self.epochs}")
        if self.imgsz < 32:
            raise GraceError(f"--imgsz must be at least 32 (a multiple of 32), got {self.imgsz}")
        if self.batch == 0 or self.batch < -1:
            raise GraceError(f"--batch must be a positive number (or -1 for automatic on a GPU), got {self.batch}")
        if self.hours is not None and self.hours <= 0:
            raise GraceError(f"--hours must be positive, got {self.hours}")
        if self.seed < 0 or self.workers < 0 or self.patience < 0 or self.dscbsm_warmup < 0:
            raise GraceError("--seed, --workers, --patience and --dscbsm-warmup cannot be negative")
        if self.dscbsm_signal not in ("bce", "localization"):
            raise GraceError(f"--dscbsm-signal must be bce or localization, got {self.dscbsm_signal!r}")
        if self.sampler not in ("dscbsm", "uniform"):
            raise GraceError(f"--sampler must be dscbsm or uniform, got {self.sampler!r}")
        check_dataset(self.data)
        check_model(self.model)
        if self.weights:
            check_model(self.weights)

    def __post_init__(self) -> None:
        self.project = str(Path(self.project).resolve())  # ultralytics nests a relative project under runs/

    def run_name(self) -> str:
        return self.name or f"{Path(str(self.model)).stem}-{self.sampler}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def cli_args(self) -> list[str]:
        """The ``grace train`` arguments for this job (how the app launches it in a worker process)."""
        if self.resume:
            return ["--resume", str(self.resume)]
        if self.extra:
            raise GraceError("extra ultralytics overrides cannot be passed on the command line")
        args = ["--data", str(self.data), "--model", str(self.model), "--project", str(self.project)]
        for name in ("epochs", "imgsz", "batch", "device", "seed", "workers", "patience", "sampler"):
            args += [f"--{name}", str(getattr(self, name))]
        args += ["--dscbsm-warmup", str(self.dscbsm_warmup), "--dscbsm-signal", self.dscbsm_signal]
        optional = {"--hours": self.hours, "--weights": self.weights, "--name": self.name}
        for flag, value in optional.items():
            if value is not None and value != "":
                args += [flag, str(value)]
        if self.dscbsm_loss_weighting:
            args.append("--dscbsm-loss-weighting")
        return args

    @classmethod
    def from_dict(cls, values: dict) -> TrainJob:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise GraceError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return cls(**values)

    def save(self, folder: Path) -> Path:
        path = Path(folder) / JOB_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> TrainJob:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as error:
            raise GraceError(f"cannot read training settings {path}: {error}") from error


def check_model(model: str) -> None:
    """A registry name, a model YAML, or a checkpoint that opens safely; otherwise a clear :class:`ModelError`."""
    if str(model).lower().endswith(".pt"):
        from grace_core.nn.transfer import load_detection_model

        load_detection_model(model)
    else:
        from grace_core.nn.registry import model_config

        model_config(model)


def check_dataset(data: str) -> Path:
    """The data.yaml of a trainable dataset: names, and train/val splits that hold images, with training labels."""
    from grace_core.data.stats import find_data_yaml, split_images
    from grace_core.data.yolo import label_path_for, load_yaml

    if not data:
        raise DatasetError("no dataset given: pass --data path/to/data.yaml (make one with `grace data import`)")
    path = find_data_yaml(data)
    if not load_yaml(path).get("names"):
        raise DatasetError(f"{path}: no class names ('names:'); is this a dataset's data.yaml?")
    images = split_images(path)
    for split in ("train", "val"):
        if not images.get(split):
            raise DatasetError(f"{path}: the '{split}' split holds no images")
    if not any(label_path_for(image).is_file() for image in images["train"]):
        raise DatasetError(f"{path}: no label files for the training images (expected them in labels/ folders)")
    return path
