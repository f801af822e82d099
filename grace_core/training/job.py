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
    dscbsm_signal: str = "quality"  # "quality" (p·t), "bce" (|p − t|) or "localization" (1 − t̄): docs/method.md
    dscbsm_rarity: str = "images"  # rarity counts images holding a class ("images") or its boxes ("instances")
    dscbsm_options: dict = field(default_factory=dict)  # further DSCBSMConfig values, e.g. {"alpha": 0.5}
    precision: str = "auto"  # CPU: auto (bf16 where the CPU has it natively) | fp32 | bf16
    threads: int | None = None  # CPU threads for the model (None: every core); a machine setting, not the run's
    resume: str | None = None
    trust: bool = False  # resume/fine-tune: allow a full unpickle of the checkpoint (only for files the user made)
    extra: dict = field(default_factory=dict)  # further ultralytics overrides (e.g. {"mosaic": 0.5})

    def check(self) -> None:
        """Raise a :class:`GraceError` naming the first impossible setting."""
        if self.resume:
            if not Path(self.resume).is_file():
                raise GraceError(f"nothing to resume: {self.resume} does not exist (pass a run's weights/last.pt)")
            check_resumable(self.resume, self.trust)
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
        from grace_core.training.cpu_speed import PRECISIONS
        from grace_core.training.dscbsm import RARITY, SIGNALS

        if self.dscbsm_signal not in SIGNALS:
            raise GraceError(f"--dscbsm-signal must be one of {', '.join(SIGNALS)}, got {self.dscbsm_signal!r}")
        check_dscbsm_options(self.dscbsm_options)
        if self.dscbsm_rarity not in RARITY:
            raise GraceError(f"--dscbsm-rarity must be one of {', '.join(RARITY)}, got {self.dscbsm_rarity!r}")
        if self.precision not in PRECISIONS:
            raise GraceError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.threads is not None and self.threads < 1:
            raise GraceError(f"--threads must be at least 1, got {self.threads}")
        if self.sampler not in ("dscbsm", "uniform"):
            raise GraceError(f"--sampler must be dscbsm or uniform, got {self.sampler!r}")
        check_dataset(self.data)
        check_model(self.model, self.trust)
        if self.weights:
            check_model(self.weights, self.trust)

    def __post_init__(self) -> None:
        self.project = str(Path(self.project).resolve())  # ultralytics nests a relative project under runs/

    def run_name(self) -> str:
        return self.name or f"{Path(str(self.model)).stem}-{self.sampler}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def cli_args(self) -> list[str]:
        """The ``grace train`` arguments for this job (how the app launches it in a worker process)."""
        if self.resume:
            args = ["--resume", str(self.resume)] + (["--threads", str(self.threads)] if self.threads else [])
            return args + (["--trust"] if self.trust else [])
        args = ["--data", str(self.data), "--model", str(self.model), "--project", str(self.project)]
        for name in ("epochs", "imgsz", "batch", "device", "seed", "workers", "patience", "sampler"):
            args += [f"--{name}", str(getattr(self, name))]
        args += ["--dscbsm-warmup", str(self.dscbsm_warmup), "--dscbsm-signal", self.dscbsm_signal]
        args += ["--dscbsm-rarity", self.dscbsm_rarity, "--precision", self.precision]
        for key, value in self.dscbsm_options.items():
            args += ["--dscbsm-set", f"{key}={value}"]
        for key, value in self.extra.items():
            args += ["--set", f"{key}={value}"]
        optional = {"--hours": self.hours, "--weights": self.weights, "--name": self.name, "--threads": self.threads}
        for flag, value in optional.items():
            if value is not None and value != "":
                args += [flag, str(value)]
        if self.dscbsm_loss_weighting:
            args.append("--dscbsm-loss-weighting")
        if self.trust:
            args.append("--trust")
        return args

    @classmethod
    def from_dict(cls, values: dict) -> TrainJob:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise GraceError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return cls(**{**_BEFORE_THEIR_TIME, **values})

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


#: What a job saved before a setting existed meant by it (a resumed old run keeps computing as it did).
_BEFORE_THEIR_TIME = {"dscbsm_signal": "bce", "dscbsm_rarity": "instances", "precision": "fp32"}


#: DSCBSMConfig fields set by their own TrainJob field, not through ``dscbsm_options``.
_DSCBSM_OWN_FIELDS = {"warmup_epochs", "loss_weighting", "signal", "rarity"}


def check_dscbsm_options(options: dict) -> None:
    """``dscbsm_options`` name DSCBSMConfig fields (other than those with their own setting) with valid values."""
    import dataclasses

    from grace_core.training.dscbsm import DSCBSMConfig

    defaults = {f.name: f.default for f in dataclasses.fields(DSCBSMConfig) if f.name not in _DSCBSM_OWN_FIELDS}
    unknown = set(options) - set(defaults)
    if unknown:
        known = ", ".join(sorted(defaults))
        raise GraceError(f"unknown DS-CBSM++ setting(s) {', '.join(sorted(unknown))}: use {known}")
    for key, value in options.items():
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (numeric if isinstance(defaults[key], (int, float)) else isinstance(value, type(defaults[key]))):
            raise GraceError(f"DS-CBSM++ setting {key} must be a {type(defaults[key]).__name__}, got {value!r}")
    try:
        DSCBSMConfig(**options)
    except (TypeError, ValueError) as error:
        raise GraceError(f"DS-CBSM++ settings {options}: {error}") from error


def check_model(model: str, trust: bool = False) -> None:
    """A registry name, a model YAML, or a checkpoint that opens safely; otherwise a clear :class:`ModelError`.

    A checkpoint is unpickled with ``weights_only`` here, before ultralytics (which unpickles it again for resume and
    fine-tuning) ever sees it: a file that would run code is refused unless ``trust``.
    """
    if str(model).lower().endswith(".pt"):
        from grace_core.nn.transfer import load_detection_model

        load_detection_model(model, trust=trust)
    else:
        from grace_core.nn.registry import model_config

        model_config(model)


def check_resumable(last: str, trust: bool = False) -> None:
    """``last`` is a checkpoint of an unfinished run that opens safely; otherwise a clear :class:`GraceError`."""
    from grace_core.nn.transfer import read_checkpoint

    checkpoint = read_checkpoint(last, trust=trust)
    if int(checkpoint.get("epoch", -1)) < 0:
        raise GraceError(
            f"{last}: this run has finished, there is nothing to resume; to train further, start a new run from "
            f"it (--model {last})"
        )


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
