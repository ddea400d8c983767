"""The layout of θ, eq. (6.17): θ = [vec(W_1), b_1, vec(W_2), b_2, …, vec(W_L), b_L].

Each W_l has shape (n_l, n_{l-1}) and is flattened row-major. θ is the one owner of the numbers:
layers hold views into it, and the gradient buffer has the same layout and the same views, so an
optimizer moves every parameter in one vector operation and nothing is ever concatenated.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from ._types import Array

__all__ = ["layer_slices", "layer_views", "n_params"]


def n_params(sizes: Sequence[int]) -> int:
    """|θ| = Σ_l n_l (n_{l-1} + 1)."""
    return sum(n_out * (n_in + 1) for n_in, n_out in pairwise(sizes))


def layer_slices(sizes: Sequence[int]) -> list[slice]:
    """The slice of θ holding [vec(W_l), b_l] for each layer l = 1 … L."""
    slices, at = [], 0
    for n_in, n_out in pairwise(sizes):
        slices.append(slice(at, at + n_out * (n_in + 1)))
        at += n_out * (n_in + 1)
    return slices


def layer_views(theta: Array, sizes: Sequence[int]) -> list[tuple[Array, Array]]:
    """(W_l, b_l) as views into θ, eq. (6.17), W_l of shape (n_l, n_{l-1}) row-major."""
    views, at = [], 0
    for n_in, n_out in pairwise(sizes):
        W = theta[at : at + n_out * n_in].reshape(n_out, n_in)
        b = theta[at + n_out * n_in : at + n_out * (n_in + 1)]
        views.append((W, b))
        at += n_out * (n_in + 1)
    return views
