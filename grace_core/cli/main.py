"""Entry point of the ``grace`` command: builds the parser from the command modules and maps user errors to exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from grace_core import __version__
from grace_core.errors import GraceError


def build_parser() -> argparse.ArgumentParser:
    from grace_core.cli import coil, data, detect, experiment, export, golden, info, review, selftest, train, val

    parser = argparse.ArgumentParser(prog="grace", description="GRACE steel-defect detection: models and datasets.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (info, data, train, val, experiment, export, detect, review, selftest, coil, golden):
        module.add_parser(commands)
    return parser


class _StderrHandler(logging.Handler):
    """Log records as ``warning: …`` lines on whatever ``sys.stderr`` is at the time (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


def _show_core_warnings() -> None:
    logger = logging.getLogger("grace_core")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler(logging.WARNING))
        logger.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    _show_core_warnings()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GraceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
