"""Tooling that never runs in a Lambda: CLI, generator, offline stack, analytics, model training."""
