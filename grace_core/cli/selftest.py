"""``grace selftest``: inspect the demo on every bundled backend and train one epoch in a worker; exit 0 if all pass."""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    parser = commands.add_parser("selftest", help="check that this install inspects and trains (offline)")
    parser.add_argument("--frames", type=int, default=12, help="demo frames per backend (12)")
    parser.add_argument("--no-train", action="store_true", help="skip the one-epoch training check")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grace_core.selftest import run_self_test

    checks = run_self_test(frames=args.frames, train=not args.no_train, log=lambda line: print(line, flush=True))
    return 0 if checks and all(check.ok for check in checks) else 1
