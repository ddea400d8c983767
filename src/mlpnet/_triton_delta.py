"""One Triton kernel for the output end of Algorithm 6.1 on a GPU: softmax, δ_L, δ_{L-1}.

For softmax cross-entropy the backward pass begins with four small steps: P = softmax(Z_L),
δ_L = P Σ_k y_k − y (eq. of `losses.SoftmaxCrossEntropy`), δ_L W_L, and ⊙ ψ'(Z_{L-1}). In PyTorch
these are four kernels, each a few microseconds of launch for a few kilobytes of work; at batch 100
they are a third of a step. `softmax_delta` does all four in one launch, one program per row: the
row's C logits are read once, W_L (C × H, a few kilobytes) comes from the L2 cache, and δ_L and
δ_{L-1} are written once. ψ' is taken from Q_{L-1} = ψ(Z_{L-1}) (relu: Q > 0; tanh: 1 − Q²;
sigmoid: Q(1 − Q); identity: 1), as in `activations`.

Used by `mlpnet._lean_step.LeanStep` where Triton is importable and the arrays are on CUDA. The test
suite runs the same kernel in Triton's interpreter on the CPU (``TRITON_INTERPRET=1``) where
Triton is installed, against NumPy's mini-batch SGD.
"""

from __future__ import annotations

from typing import Any

import triton
import triton.language as tl

ACTS = {"identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3}
MAX_CLASSES = 1024  # one row's logits live in registers


@triton.jit(do_not_specialize=["row0"])
def _softmax_delta_kernel(
    Z, NEG_Y, W, Q, D_L, D_PREV,
    row0, s_z, s_y, s_w, s_q, s_dl, s_dp,
    C: tl.constexpr, H: tl.constexpr, ACT: tl.constexpr, BC: tl.constexpr, BH: tl.constexpr,
):  # fmt: skip
    r = tl.program_id(0)
    c = tl.arange(0, BC)
    cm = c < C
    z = tl.load(Z + (row0 + r) * s_z + c, mask=cm, other=-float("inf"))
    e = tl.where(cm, tl.exp(z - tl.max(z, axis=0)), 0.0)
    p = e / tl.sum(e, axis=0)
    neg_y = tl.load(NEG_Y + (row0 + r) * s_y + c, mask=cm, other=0.0)
    d_l = neg_y - p * tl.sum(neg_y, axis=0)  # P Σy − y, with −y given
    tl.store(D_L + r * s_dl + c, d_l, mask=cm)
    for h0 in range(0, H, BH):
        h = h0 + tl.arange(0, BH)
        hm = h < H
        w = tl.load(W + c[:, None] * s_w + h[None, :], mask=cm[:, None] & hm[None, :], other=0.0)
        d = tl.sum(d_l[:, None] * w, axis=0)  # (δ_L W_L) for these H columns
        if ACT != 0:
            q = tl.load(Q + r * s_q + h, mask=hm, other=0.0)
            if ACT == 1:
                d = tl.where(q > 0, d, 0.0)
            elif ACT == 2:
                d = d * (1.0 - q * q)
            else:
                d = d * q * (1.0 - q)
        tl.store(D_PREV + r * s_dp + h, d, mask=hm)


def softmax_delta(
    logits: Any, neg_y: Any, row0: int, n: int, W: Any, Q: Any, act: str, out_l: Any, out_prev: Any
) -> None:
    """δ_L and δ_{L-1} of rows row0 … row0+n−1 into `out_l` (n × C) and `out_prev` (n × H).

    `logits` and `neg_y` are whole-epoch buffers (N × C, rows contiguous) read from row `row0`,
    so that the kernel's arguments keep their addresses from step to step (a CUDA graph needs no
    recompilation); `W` is W_L's C × H view (its rows may be longer: the bias column), `Q` the
    n × H view of Q_{L-1}.
    """
    C, H = W.shape
    BC = triton.next_power_of_2(C)
    BH = max(16, min(triton.next_power_of_2(H), 4096 // BC))
    _softmax_delta_kernel[(n,)](
        logits, neg_y, W, Q, out_l, out_prev,
        row0, logits.stride(0), neg_y.stride(0), W.stride(0), Q.stride(0),
        out_l.stride(0), out_prev.stride(0),
        C=C, H=H, ACT=ACTS[act], BC=BC, BH=BH,
    )  # fmt: skip
