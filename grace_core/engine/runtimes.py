"""The one table of inference runtimes: names, file formats, export formats, shipped files and engine classes.

Every command-line choice, file filter, export option and shipped-model lookup reads this table (as ultralytics'
``export_formats()`` does), so a new runtime is one entry here plus its engine module. Importing this module
imports no runtime: engines are imported by name, only when a model is loaded.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from grace_core.errors import ModelError


@dataclass(frozen=True)
class Runtime:
    name: str  # what --backend takes
    label: str  # what people read
    suffixes: tuple[str, ...]  # model files it runs
    engine: str  # "module:Class" of its engine, imported on load
    module: str  # the Python package it needs (a bundle without it cannot run this runtime)
    shipped: str  # the shipped model in this format, under resources/models/
    export_format: str | None = None  # `grace export --format` value that produces it (None: the checkpoint itself)
    precisions: tuple[str, ...] = ("f32",)  # arithmetic it offers; the first is the default (exact)
    folder_models: bool = False  # a folder holding its model file is accepted too (OpenVINO's export folder)
    options: tuple[str, ...] = ()  # which of load_engine's device / trust / precision / threads its engine takes

    def engine_class(self):
        module, _, name = self.engine.partition(":")
        return getattr(importlib.import_module(module), name)

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


_STEM = "grace-neu-det"
RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime(
            "onnxruntime",
            "ONNX Runtime",
            (".onnx",),
            "grace_core.engine.onnx_engine:OnnxEngine",
            "onnxruntime",
            f"{_STEM}.onnx",
            export_format="onnx",
            options=("threads",),
        ),
        Runtime(
            "openvino",
            "OpenVINO",
            (".xml",),
            "grace_core.engine.openvino_engine:OpenVinoEngine",
            "openvino",
            f"{_STEM}_openvino/{_STEM}.xml",
            export_format="openvino",
            precisions=("f32", "bf16"),
            folder_models=True,
            options=("precision",),
        ),
        Runtime(
            "torch",
            "PyTorch",
            (".pt",),
            "grace_core.engine.torch_engine:TorchEngine",
            "torch",
            f"{_STEM}.pt",
            options=("device", "trust", "threads"),
        ),
    )
}
AUTO = "auto"
BACKEND_CHOICES = (AUTO, *RUNTIMES)  # for --backend options
EXPORT_FORMATS = tuple(r.export_format for r in RUNTIMES.values() if r.export_format)
MODEL_SUFFIXES = tuple(s for r in RUNTIMES.values() for s in r.suffixes)
PRECISIONS = tuple(dict.fromkeys(p for r in RUNTIMES.values() for p in r.precisions))


def runtime_for(path: str | Path) -> Runtime:
    """The runtime that runs the model file (or model folder) ``path``."""
    path = Path(path)
    for runtime in RUNTIMES.values():
        if path.suffix.lower() in runtime.suffixes:
            return runtime
        if runtime.folder_models and path.is_dir() and any(path.glob(f"*{runtime.suffixes[0]}")):
            return runtime
    kinds = ", ".join(f"{s} ({r.label})" for r in RUNTIMES.values() for s in r.suffixes)
    raise ModelError(f"{path}: not a model this app can run (use {kinds}, or an export folder)")


def runtime_named(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise ModelError(f"unknown backend {name!r}: use one of {', '.join(BACKEND_CHOICES)}") from None


def runtime_of_export(export_format: str) -> Runtime:
    for runtime in RUNTIMES.values():
        if runtime.export_format == export_format:
            return runtime
    raise ModelError(f"unknown export format {export_format!r}: use one of {', '.join(EXPORT_FORMATS)}")


def file_filter() -> str:
    """A file-dialog filter for every model file a runtime here runs."""
    patterns = " ".join(f"*{s}" for s in MODEL_SUFFIXES)
    return f"Models ({patterns});;All files (*)"


def describe_model_files() -> str:
    """``.pt, .onnx, .xml``: the model files, for menus and messages."""
    return ", ".join(MODEL_SUFFIXES)
