"""Benchmarks: each ``bench_<name>.py`` exposes ``run() -> dict``; see ``__main__``."""
