"""OpenMP's wait policy: set for inference processes before torch loads, never over the user's choice."""

from __future__ import annotations

import os
import subprocess
import sys


def _fresh(code: str, **env: str) -> str:
    """What ``code`` prints in a new interpreter whose environment has no OMP_WAIT_POLICY unless given."""
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | env
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_grace_command_sets_a_sleeping_policy_before_torch_loads() -> None:
    code = (
        "import os, sys\n"
        "from grace_core.cli.main import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)"
    )
    assert _fresh(code) == "PASSIVE False"


def test_the_users_policy_is_kept() -> None:
    code = (
        "import os\nfrom grace_core.cpu_threads import prefer_passive_openmp as p\n"
        "print(p(), os.environ['OMP_WAIT_POLICY'])"
    )
    assert _fresh(code, OMP_WAIT_POLICY="ACTIVE") == "False ACTIVE"


def test_nothing_is_set_once_torch_is_loaded() -> None:
    code = (
        "import torch, os\nfrom grace_core.cpu_threads import prefer_passive_openmp as p\n"
        "print(p(), os.environ.get('OMP_WAIT_POLICY'))"
    )
    assert _fresh(code) == "False None"
