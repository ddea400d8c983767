"""Exceptions raised by mlpnet."""

from __future__ import annotations

from typing import Any

__all__ = ["TrainingDiverged"]


class TrainingDiverged(RuntimeError):  # noqa: N818 - the public name is fixed by the API contract
    """Training produced a non-finite loss; θ was restored to its last finite value.

    Attributes
    ----------
    history : History
        What was recorded up to the failing step.
    """

    def __init__(self, message: str, history: Any = None) -> None:
        super().__init__(message)
        self.history = history
