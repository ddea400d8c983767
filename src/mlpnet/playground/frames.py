"""What a frame carries: output grid, units' pictures, curve and contributions, Algorithm 6.1.

Grids travel as base64 bytes: ŷ ∈ [0, 1] as round(255ŷ) (an error of at most 1/510, below what a
colour shows), each hidden unit scaled to its own [lo, hi] with lo and hi sent beside it.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

__all__ = ["CURVE_POINTS", "GRID", "backprop_detail", "curve_frame", "plane_frame"]

GRID = 50  # boundary grid of the plane, GRID × GRID points; unit pictures use every second one
CURVE_POINTS = 201


def _b64(values: np.ndarray, lo: float, hi: float) -> str:
    """Values mapped linearly from [lo, hi] to bytes 0 … 255, base64: one byte a grid point."""
    scaled = (values - lo) * (255.0 / (hi - lo if hi > lo else 1.0))
    return _bytes64(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _bytes64(codes: np.ndarray) -> str:
    return base64.b64encode(codes.tobytes()).decode()


def plane_frame(net: Any, extent: list[list[float]]) -> dict[str, Any]:
    """ŷ on the GRID × GRID grid (bytes of 255ŷ), each hidden unit's output on every 2nd point."""
    (x0, x1), (y0, y1) = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y1, y0, GRID))
    cache = net.forward_cache(np.column_stack([gx.ravel(), gy.ravel()]))
    neurons = []
    hidden = cache.Q[1:-1]
    if hidden:  # all units at once: (units, 25 · 25) values, each scaled to its own [lo, hi]
        sub = np.concatenate([Q.reshape(GRID, GRID, -1)[::2, ::2] for Q in hidden], axis=2)
        sub = sub.reshape(-1, sub.shape[2]).T
        lo, hi = sub.min(axis=1), sub.max(axis=1)
        scale = 255.0 / np.where(hi > lo, hi - lo, 1.0)
        codes = np.rint((sub - lo[:, None]) * scale[:, None]).astype(np.uint8)
        neurons = [
            {"lo": round(float(a), 4), "hi": round(float(b), 4), "b": _bytes64(row)}
            for a, b, row in zip(lo, hi, codes, strict=True)
        ]
    return {"grid": _b64(cache.Q[-1][:, 0], 0.0, 1.0), "n": GRID, "neurons": neurons}


def curve_frame(net: Any, extent: list[list[float]]) -> dict[str, Any]:
    """f(x) on CURVE_POINTS points; each unit's output; with one hidden layer v_j ψ(w_j x + b_j)."""
    x = np.linspace(extent[0][0], extent[0][1], CURVE_POINTS)
    cache = net.forward_cache(x.reshape(-1, 1))
    out: dict[str, Any] = {
        "x": np.round(x, 4).tolist(),
        "f": np.round(cache.Q[-1][:, 0], 4).tolist(),
        "neurons": [np.round(Q[::2].T, 3).tolist() for Q in cache.Q[1:-1]],
    }
    if len(net.layers) == 2:  # Figure 5.3: f(x) = Σ_j v_j ψ(w_j x + b_j) + c
        v = net.layers[1].W[0]
        out["contributions"] = np.round((cache.Q[1] * v).T, 4).tolist()
        out["c"] = round(float(net.layers[1].b[0]), 4)
    return out


def backprop_detail(net: Any, x: np.ndarray, y: np.ndarray, loss: str) -> dict[str, Any]:
    """Algorithm 6.1 for one sample, layer by layer: Z_l, Q_l, δ_l = ∂J/∂Z_l, ∇W_l, ∇b_l.

    δ_L comes from the library (`Network.output_delta`); the recursion
    δ_{l-1} = (δ_l W_l) ⊙ ψ'_{l-1}(Z_{l-1}) and ∇W_l = δ_lᵀ Q_{l-1}, ∇b_l = δ_l are written out
    here so that each appears on the page (tests check them against `Network.backward`).
    """
    cache = net.forward_cache(x)
    delta = net.output_delta(cache, y, loss)
    layers: list[dict[str, Any]] = []
    for l in range(len(net.layers), 0, -1):
        W = net.layers[l - 1].W
        layers.append(
            {
                "l": l,
                "Z": cache.Z[l - 1][0].tolist(),
                "Q": cache.Q[l][0].tolist(),
                "delta": delta[0].tolist(),
                "gW": (delta.T @ cache.Q[l - 1]).tolist(),
                "gb": delta[0].tolist(),
            }
        )
        if l > 1:
            act = net.layers[l - 2].activation
            delta = act.backprop(cache.Z[l - 2], cache.Q[l - 1], delta @ W)
    layers.reverse()
    return {
        "x": x[0].tolist(),
        "y": y[0].tolist(),
        "yhat": cache.Q[-1][0].tolist(),
        "loss": float(net.loss(x, y, loss)),
        "layers": layers,
    }
