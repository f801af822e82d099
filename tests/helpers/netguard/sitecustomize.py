"""Loaded at start-up by Python subprocesses of the test suite: block the network there too."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from helpers.no_network import install

install()
sys.path.pop(0)
