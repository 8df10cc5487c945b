"""The errors of the emulated stack."""

from __future__ import annotations


class HarnessError(RuntimeError):
    """The emulated stack cannot be built or driven; the message says why."""


class LambdaInvocationError(Exception):
    """A handler invoked through ``EmulatedStack.invoke`` raised (as Lambda would report it)."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.error_message = message
