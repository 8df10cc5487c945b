"""The process environment while the emulated stack runs, and each function's during its call.

The handlers read their variables from ``os.environ``, and each invocation sets its function's.
Written through to the process (glibc's setenv), a change may move the environment array while C
code in another thread reads it with getenv (DuckDB in the offline session's thread, the time
functions behind the local model server's log lines): a crash. So while the stack runs,
``os.environ`` is a copy whose changes stay in Python, and C code keeps seeing the environment the
process started with.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping


class PythonOnlyEnviron(os._Environ[str]):
    """``os.environ`` whose changes stay in Python (never reach the process's environment)."""

    @classmethod
    def copy_of(cls, environ: os._Environ[str]) -> PythonOnlyEnviron:
        return cls(
            dict(environ._data),  # type: ignore[attr-defined]
            environ.encodekey,
            environ.decodekey,
            environ.encodevalue,
            environ.decodevalue,
        )

    def __setitem__(self, key: str, value: str) -> None:
        self._data[self.encodekey(key)] = self.encodevalue(value)  # type: ignore[attr-defined]

    def __delitem__(self, key: str) -> None:
        try:
            del self._data[self.encodekey(key)]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(key) from None


def restore_environ(saved: Mapping[str, str]) -> None:
    """Put ``os.environ`` back as ``saved``, key by key: never empty for a moment, since other
    threads (moto's, the offline session's boto3 clients) read it meanwhile."""
    environ = os.environ
    for key in [key for key in environ if key not in saved]:
        environ.pop(key, None)
    for key, value in saved.items():
        if environ.get(key) != value:
            environ[key] = value


@contextlib.contextmanager
def python_only_environ(variables: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` replaced by a Python-only copy holding ``variables`` too, until the end."""
    real_environ = os.environ
    os.environ = PythonOnlyEnviron.copy_of(real_environ)  # noqa: B003
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        restore_environ(saved)
        os.environ = real_environ  # noqa: B003


@contextlib.contextmanager
def function_environ(environment: Mapping[str, str]) -> Iterator[None]:
    """One function's variables in ``os.environ`` (and its Powertools log level) for one call."""
    saved = dict(os.environ)
    os.environ.update(environment)
    # Lambda starts every function in its own process; here the functions share one, and
    # Powertools sets its logger's level only once per service: apply this function's level.
    service = environment.get("POWERTOOLS_SERVICE_NAME")
    level = environment.get("POWERTOOLS_LOG_LEVEL")
    service_logger = logging.getLogger(service) if service else None
    saved_level = service_logger.level if service_logger else logging.NOTSET
    if service_logger is not None and level:
        service_logger.setLevel(level.upper())
    try:
        yield
    finally:
        if service_logger is not None:
            service_logger.setLevel(saved_level)
        restore_environ(saved)
