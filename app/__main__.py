"""``grace-inspect``: the desktop app's entry point."""

from __future__ import annotations

import sys


def main() -> int:
    print("grace-inspect: the live inspection window is not built yet; use the `grace` command.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
