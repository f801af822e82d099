"""Experiments: ablations that compare training variants under identical settings."""
