"""Settings that persist across restarts, in an INI file in the per-user config folder (readable, diffable).

Values are validated on load: a damaged or hand-edited file falls back to the defaults for what it got wrong,
never stops the app from starting.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from grace_core.flagging import REPEAT_WINDOW_S, Thresholds
from grace_core.paths import user_config_dir
from grace_core.store.review_store import default_station

log = logging.getLogger(__name__)

SHIPPED_MODEL = "shipped"


@dataclass
class LiveSettings:
    source: str = "demo"
    model: str = SHIPPED_MODEL
    backend: str = "auto"
    device: str = "cpu"
    thresholds: dict[str, Any] = field(default_factory=lambda: Thresholds().to_dict())
    heatmap: bool = True
    opacity: float = 0.6
    quota_gb: float = 2.0
    autostart: bool = True
    show_tiles: bool = False  # the tile grid of sliced frames
    alarm: dict[str, float] = field(default_factory=dict)  # per-class alarm thresholds above the flag threshold
    alarm_muted: bool = False
    repeat_window_s: float = REPEAT_WINDOW_S  # an unchanged scene is saved again after this long; 0: every frame
    dark_theme: bool = False  # the window's theme (View menu), for control rooms
    sections: dict[str, bool] = field(default_factory=dict)  # side-panel sections: expanded or folded

    def thresholds_value(self) -> Thresholds:
        try:
            return Thresholds.from_dict(self.thresholds)
        except (ValueError, TypeError) as exc:
            log.warning("saved thresholds ignored (%s); using the defaults", exc)
            return Thresholds()


def settings_file() -> str:
    return str(user_config_dir() / "grace-inspect.ini")


def open_qsettings() -> QSettings:
    return QSettings(settings_file(), QSettings.Format.IniFormat)


def _load_section(cls: type, section: str, store: QSettings) -> dict[str, Any]:
    """The saved values of dataclass ``cls``'s fields under ``section/``; a bad value is logged and skipped."""
    defaults = cls()
    values: dict[str, Any] = {}
    for spec in fields(cls):
        default = getattr(defaults, spec.name)
        raw = store.value(f"{section}/{spec.name}")
        if raw is None:
            continue
        try:
            values[spec.name] = _convert(raw, default)
        except (ValueError, TypeError):
            log.warning("setting %s/%s=%r ignored: not a valid %s", section, spec.name, raw, type(default).__name__)
    return values


def _save_section(settings: Any, section: str, store: QSettings) -> None:
    for name, value in asdict(settings).items():
        store.setValue(f"{section}/{name}", json.dumps(value) if isinstance(value, (dict, list)) else value)
    store.sync()


def load_live_settings(store: QSettings | None = None) -> LiveSettings:
    settings = LiveSettings(**_load_section(LiveSettings, "live", store or open_qsettings()))
    settings.opacity = min(max(settings.opacity, 0.0), 1.0)
    if settings.quota_gb <= 0:
        settings.quota_gb = LiveSettings().quota_gb
    if not 0 <= settings.repeat_window_s <= 24 * 3600:
        settings.repeat_window_s = LiveSettings().repeat_window_s
    settings.alarm = _valid_alarm(settings.alarm)
    settings.sections = {str(k): bool(v) for k, v in settings.sections.items() if isinstance(v, bool)}
    return settings


def _valid_alarm(values: dict[str, Any]) -> dict[str, float]:
    """Alarm thresholds that are numbers in [0, 1]; others are dropped (that class alarms at its flag threshold)."""
    valid = {}
    for name, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
            valid[str(name)] = float(value)
        else:
            log.warning("alarm threshold %r=%r ignored: not a number in [0, 1]", name, value)
    return valid


def save_live_settings(settings: LiveSettings, store: QSettings | None = None) -> None:
    _save_section(settings, "live", store or open_qsettings())


@dataclass
class TrainingSettings:
    """The training tab's form, as the engineer last left it (each run also saves its own job in its folder)."""

    data: str = ""
    scale: str = "n"  # n or s
    lite_fen: bool = True  # off: the YOLO11 baseline of the same scale
    dscbsm: bool = True  # off: ultralytics' uniform shuffle
    weights: str = ""
    epochs: int = 50  # NEU-DET on 2 CPU cores at 224: ≈ 90 s per epoch for scale n (docs/results.md)
    imgsz: int = 224  # NEU-DET images are 200×200: the smallest stride-32 size that keeps every pixel
    batch: int = 16
    device: str = "cpu"
    seed: int = 0
    workers: int = 2  # data-loading processes
    dscbsm_warmup: int = 3  # uniform epochs before DS-CBSM++ steers
    import_format: str = "neu-det"
    previous_live_model: str = ""  # the live model before the last promotion: what "Roll back" returns to


def load_training_settings(store: QSettings | None = None) -> TrainingSettings:
    settings = TrainingSettings(**_load_section(TrainingSettings, "training", store or open_qsettings()))
    defaults = TrainingSettings()
    if settings.scale not in ("n", "s"):
        settings.scale = defaults.scale
    for name in ("epochs", "imgsz", "batch"):
        if getattr(settings, name) <= 0:
            setattr(settings, name, getattr(defaults, name))
    return settings


def save_training_settings(settings: TrainingSettings, store: QSettings | None = None) -> None:
    _save_section(settings, "training", store or open_qsettings())


@dataclass
class PlantSettings:
    """How this station talks to the plant (Settings ▸ Plant connection…): the same settings as ``grace detect``'s
    ``--station``, ``--sink`` and ``--coil-from``, and the review store (``grace review --store``)."""

    station: str = ""  # "" → this machine's name ($GRACE_STATION, else the host name)
    store: str = ""  # "" → today's local store in the per-user data folder; else a folder, sqlite:///…, postgresql://…
    sinks: list[str] = field(default_factory=list)  # jsonl:/csv:/events:/images:/video:…, mqtt://…, opcua://…
    coil_from: str = ""  # "" → none; mqtt://host:port/topic or opc.tcp://host:port/ns=2;s=Line1.CoilId

    def station_name(self) -> str:
        return self.station.strip() or default_station()


PLANT_FIELDS = {"station": "Station name", "store": "Review store", "sinks": "Sinks", "coil_from": "Coil id from"}
PLANT_EXAMPLES = {
    "station": "line1",
    "store": "postgresql://inspect@qa-db:5432/grace (or a folder, or sqlite:///path)",
    "sinks": "mqtt://broker:1883/plant/line1, opcua://0.0.0.0:4840, jsonl:/data/line1/detections.jsonl",
    "coil_from": "mqtt://l2-broker:1883/plant/line1/coil or opc.tcp://l2-server:4840/ns=2;s=Line1.CoilId",
}
MAX_STATION_LENGTH = 100


def plant_errors(settings: PlantSettings) -> dict[str, str]:
    """Field → what is wrong with it and a valid example (empty when all are valid). Each URL is read by the core's
    own parser (the one that will open it), so what is accepted here is what inspection can open."""
    from grace_core.errors import GraceError
    from grace_core.plant import check_coil_url
    from grace_core.sinks import check_sink
    from grace_core.store import parse_location

    errors: dict[str, str] = {}
    station = settings.station.strip()
    if len(station) > MAX_STATION_LENGTH or any(not c.isprintable() for c in station):
        errors["station"] = f"at most {MAX_STATION_LENGTH} printable characters on one line"
    try:
        if settings.store.strip():
            parse_location(settings.store.strip())
    except GraceError as error:
        errors["store"] = str(error)
    for number, spec in enumerate(settings.sinks, 1):
        try:
            if check_sink(spec) == "store":
                raise GraceError(f"{spec}: flagged frames already go to the review store above (a store: sink would "
                                 "save them twice); set the central store there")  # fmt: skip
        except GraceError as error:
            errors["sinks"] = f"line {number}: {error}"
            break
    try:
        if settings.coil_from.strip():
            check_coil_url(settings.coil_from.strip())
    except GraceError as error:
        errors["coil_from"] = str(error)
    return {name: f"{message}\nFor example: {PLANT_EXAMPLES[name]}" for name, message in errors.items()}


def load_plant_settings(store: QSettings | None = None) -> PlantSettings:
    """The saved plant settings; a value the core cannot read (hand-edited, or from another version) falls back to
    its default with a log line, so that the app always starts."""
    settings = PlantSettings(**_load_section(PlantSettings, "plant", store or open_qsettings()))
    settings.sinks = [spec.strip() for spec in settings.sinks if spec.strip()]
    defaults = PlantSettings()
    for name, message in plant_errors(settings).items():
        log.warning("setting plant/%s ignored: %s", name, message)
        if name == "sinks":  # keep the sinks that are valid
            settings.sinks = [spec for spec in settings.sinks if not plant_errors(PlantSettings(sinks=[spec]))]
        else:
            setattr(settings, name, getattr(defaults, name))
    return settings


def save_plant_settings(settings: PlantSettings, store: QSettings | None = None) -> None:
    _save_section(settings, "plant", store or open_qsettings())


def _convert(raw: Any, default: Any) -> Any:
    if isinstance(default, bool):  # INI files hold text: "true"/"false"
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("true", "1", "yes")
    if isinstance(default, int):
        return int(str(raw))
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, dict):
        value = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(value, dict):
            raise ValueError("not a mapping")
        return value
    if isinstance(default, list):
        value = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError("not a list of strings")
        return value
    return str(raw)


def save_window(geometry: QByteArray, state: QByteArray, store: QSettings | None = None) -> None:
    store = store or open_qsettings()
    store.setValue("window/geometry", geometry)
    store.setValue("window/state", state)
    store.sync()


def load_window(store: QSettings | None = None) -> tuple[QByteArray | None, QByteArray | None]:
    store = store or open_qsettings()
    geometry, state = store.value("window/geometry"), store.value("window/state")
    return (
        geometry if isinstance(geometry, QByteArray) else None,
        state if isinstance(state, QByteArray) else None,
    )


def save_layout(name: str, state: QByteArray, store: QSettings | None = None) -> None:
    """A splitter's sizes (the panes the operator dragged)."""
    store = store or open_qsettings()
    store.setValue(f"layout/{name}", state)
    store.sync()


def load_layout(name: str, store: QSettings | None = None) -> QByteArray | None:
    value = (store or open_qsettings()).value(f"layout/{name}")
    return value if isinstance(value, QByteArray) else None
