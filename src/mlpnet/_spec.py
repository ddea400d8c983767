"""The architecture a saved network declares, checked before anything is allocated for it.

`Network.spec` writes ``{"format": "mlpnet.Network", "dtype": …, "layers": [{"n_in", "n_out",
"activation"}, …]}``. `network_layout` reads such a spec from an untrusted file: every size must be
a true JSON integer (not ``17.5``, not ``"17"``, not ``true``), positive and below `MAX_WIDTH`,
consecutive layers must chain, and the result is the length and dtype of θ that the file's
``theta`` must have exactly (eq. 6.17: Σ_l n_l (n_{l-1} + 1) entries).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["MAX_LAYERS", "MAX_WIDTH", "NETWORK_FORMAT", "network_layout"]

NETWORK_FORMAT = "mlpnet.Network"
"""The ``format`` entry of a network's spec."""
MAX_LAYERS = 10_000
"""Most layers a saved network may declare."""
MAX_WIDTH = 2**31 - 1
"""Largest layer size a saved network may declare."""
_DTYPES = ("float32", "float64")


def network_layout(spec: dict[str, Any]) -> tuple[int, np.dtype]:
    """Return ``(n_params, dtype)`` of the θ that a network's `spec` implies.

    Raises
    ------
    ValueError
        Saying what is wrong (without the file name, which the caller adds): not a network spec,
        an unknown dtype, no layers or too many, a size that is not a positive integer below
        `MAX_WIDTH`, layers that do not chain, an activation entry that is not a name (with a
        finite ``slope`` where given), or a ``dropout`` rate outside [0, 1).
    """
    if spec.get("format") != NETWORK_FORMAT:
        raise ValueError("it holds no mlpnet network (no 'format': 'mlpnet.Network' in its spec)")
    dtype = spec.get("dtype")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise ValueError(f"spec dtype must be 'float32' or 'float64', got {_short(dtype)}")
    layers = spec.get("layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise ValueError(f"spec layers must be a list of 1 to {MAX_LAYERS} layers")
    n_params, previous = 0, None
    for number, layer in enumerate(layers, start=1):
        if not isinstance(layer, dict):
            raise ValueError(f"spec layer {number} must be an object, got {_short(layer)}")
        n_in = _size(layer.get("n_in"), f"layer {number} n_in")
        n_out = _size(layer.get("n_out"), f"layer {number} n_out")
        if previous is not None and n_in != previous:
            raise ValueError(
                f"spec layer {number} has n_in {n_in} but layer {number - 1} has n_out {previous}"
            )
        _activation(layer.get("activation"), number)
        rate = layer.get("dropout", 0.0)
        if type(rate) not in (int, float) or not 0.0 <= rate < 1.0:
            raise ValueError(
                f"spec layer {number} dropout must be a number in [0, 1), got {_short(rate)}"
            )
        n_params += n_out * (n_in + 1)
        previous = n_out
    return n_params, np.dtype(dtype)


def _size(value: Any, what: str) -> int:
    """A true positive integer below `MAX_WIDTH` (JSON 17.5, "17" and true are refused)."""
    if type(value) is not int or not 1 <= value <= MAX_WIDTH:
        raise ValueError(
            f"spec {what} must be a positive integer at most {MAX_WIDTH}, got {_short(value)}"
        )
    return value


def _activation(entry: Any, number: int) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(f"spec layer {number} activation must name one, got {_short(entry)}")
    slope = entry.get("slope", 0.0)
    if type(slope) not in (int, float) or not math.isfinite(slope):
        raise ValueError(f"spec layer {number} slope must be a finite number, got {_short(slope)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
