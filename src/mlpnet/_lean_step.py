"""The lean SGD step of `mlpnet.epoch_graph.EpochGraph`: Algorithm 6.1 in few PyTorch kernels.

`LeanStep` runs one mini-batch step of plain or momentum SGD on a ``backend="torch"`` network as
8 kernels for 784-200-10 ReLU (the generic `mlpnet._xp_engine` step takes 41 on CUDA), so that a
CUDA graph of the epoch is short; `fusable` says which networks it covers, and `_triton_delta`
chooses the Triton kernel of `mlpnet._triton_delta` where it applies.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from . import _xp_engine as engine

__all__ = ["TORCH_ACTS", "LeanStep", "fusable"]

TORCH_ACTS = {"relu", "tanh", "sigmoid", "identity"}


def fusable(net: Any, loss: Any) -> bool:
    """Whether `LeanStep` covers the network: hidden ψ it knows, softmax cross-entropy."""
    acts = [a.name for a in net._xp_acts]
    hidden_ok = all(a in TORCH_ACTS for a in acts[:-1])
    pair = (acts[-1], loss.name)
    return hidden_ok and pair in (
        ("identity", "softmax_cross_entropy"),
        ("softmax", "cross_entropy"),
    )


def _triton_delta(net: Any, device: Any) -> Any:
    """The Triton softmax-δ kernel where it applies, else None (PyTorch's kernels do the same).

    It applies on CUDA, with Triton installed, a hidden layer and at most 1,024 classes.
    """
    import importlib.util

    if device.type != "cuda" or len(net.sizes) < 3 or importlib.util.find_spec("triton") is None:
        return None
    from . import _triton_delta as kernels

    return kernels.softmax_delta if net.sizes[-1] <= kernels.MAX_CLASSES else None


class LeanStep:
    """Algorithm 6.1 + θ ← θ − γ∇J in few PyTorch kernels: 8 a step for 784-200-10 ReLU.

    The bias rides in the matrix product (the usual augmentation): layer l works on
    W̃_l = [W_l | b_l] and Q̃_{l-1} = [Q_{l-1} | 1], so Z_l = Q̃_{l-1} W̃_lᵀ is one GEMM and
    ∇W̃_l = δ_lᵀ Q̃_{l-1} gives ∇W_l and ∇b_l = Σ_rows δ_l at once. The update is folded into that
    GEMM (``W̃.addmm_(δᵀ, Q̃, alpha=−γ/n)``), so no gradient is stored. A ReLU layer computes
    Q̃_l = relu(Q̃_{l-1} W̃_lᵀ) in one cuBLASLt call (``torch._addmm_activation``): W̃_l has one
    extra row (weights 0, bias 1) whose unit always outputs relu(1) = 1, the column of ones the
    next layer needs; that row is never updated. Other ψ write ψ(Z_l) into the first columns of a
    static Q̃_l whose last column holds the ones.

    Per step, for 784-200-10 ReLU (8 kernels): Q̃_1 = relu(X̃ W̃_1ᵀ); the logits Q̃_1 W̃_2ᵀ, written
    into the epoch's logits buffer; log P = log_softmax(Z_2); δ_2 = P Σy − y (log-softmax's
    backward with −y as its incoming gradient: one kernel); δ_1 = δ_2 W_2 (a strided view of W̃_2);
    δ_1 ⊙ relu'(Z_1) (``threshold_backward`` on Q_1); the two updates. J is not computed per step:
    each step's logits are kept, and the epoch's J's are computed from them once, after the last
    step (the logits before each update, so the same J's as the generic step's).

    W̃ are working copies: θ is copied in at the start of the epoch and out at its end (inside the
    graph, so θ is always the network's own array and nothing else sees the copies).
    """

    def __init__(
        self,
        net: Any,
        X: Any,
        Y: Any,
        batch_size: int,
        fuse_relu: bool = True,
        triton: Any = None,
        momentum: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        import torch

        self.net, self.torch = net, torch
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        dev, dtype = X.device, X.dtype
        ones = torch.ones(X.shape[0], 1, dtype=dtype, device=dev)
        self.X = torch.cat([X, ones], dim=1)  # X̃: the bias column travels with the rows
        self.Y = -Y  # −y: log-softmax's backward turns it into δ_L = P Σy − y
        self.acts = [a.name for a in net._xp_acts[:-1]] + [None]
        self.fused_relu = [fuse_relu and name == "relu" for name in self.acts]
        self.W, self.Q, self.zero = [], [], []
        for (n_in, n_out), fused in zip(pairwise(net.sizes), self.fused_relu, strict=True):
            W = torch.empty(n_out + fused, n_in + 1, dtype=dtype, device=dev)
            if fused:  # the unit whose output is relu(0·q + 1) = 1
                W[n_out] = 0
                W[n_out, n_in] = 1
            self.W.append(W)
            self.zero.append(torch.zeros(n_out + 1, dtype=dtype, device=dev) if fused else None)
            Q = None
            if not fused and len(self.W) < len(net.sizes) - 1:  # a static Q̃_l for other ψ
                Q = torch.empty(batch_size, n_out + 1, dtype=dtype, device=dev)
                Q[:, n_out] = 1
            self.Q.append(Q)
        self.logits = torch.empty(X.shape[0], net.sizes[-1], dtype=dtype, device=dev)
        self.triton = _triton_delta(net, dev) if triton is None else (triton or None)
        # momentum: v in θ's layout (what SGD's state holds) and its augmented working copies
        self.velocity = torch.zeros_like(net.params) if self.momentum else None
        self.V = [torch.zeros(n_out, n_in + 1, dtype=dtype, device=dev)
                  for n_in, n_out in pairwise(net.sizes)] if self.momentum else []  # fmt: skip

    def _pairs(self, flat: Any, W: list) -> Any:
        sizes = self.net.sizes
        params = engine.views(self.net.array_backend.xp, flat, sizes)
        return zip(params, W, sizes[:-1], sizes[1:], strict=True)

    def load(self) -> None:
        """θ (and v) into the augmented working copies [W | b]."""
        pairs = [*self._pairs(self.net.params, self.W)]
        if self.momentum:
            pairs += [*self._pairs(self.velocity, self.V)]
        for (W, b), Wt, n_in, n_out in pairs:
            Wt[:n_out, :n_in].copy_(W)
            Wt[:n_out, n_in].copy_(b)

    def store(self) -> None:
        """The working copies back into θ (and v)."""
        pairs = [*self._pairs(self.net.params, self.W)]
        if self.momentum:
            pairs += [*self._pairs(self.velocity, self.V)]
        for (W, b), Wt, n_in, n_out in pairs:
            W.copy_(Wt[:n_out, :n_in])
            b.copy_(Wt[:n_out, n_in])

    def step(self, X_all: Any, negY_all: Any, rows: slice, lr: float, grads: Any = None) -> None:
        """One step on the batch X̃ = X_all[rows] (shuffled) with targets −y = negY_all[rows]."""
        torch, aten, sizes = self.torch, self.torch.ops.aten, self.net.sizes
        X, negY = X_all[rows], negY_all[rows]
        n = X.shape[0]
        inputs = [X]
        for l in range(len(self.W) - 1):
            Wt, name, width = self.W[l], self.acts[l], sizes[l + 1]
            if self.fused_relu[l]:
                inputs.append(torch._addmm_activation(self.zero[l], inputs[-1], Wt.T))
                continue
            Z = torch.mm(inputs[-1], Wt.T)
            Q = self.Q[l][:n]
            out = Q[:, :width]
            if name == "relu":
                torch.clamp_min(Z, 0, out=out)
            elif name == "tanh":
                torch.tanh(Z, out=out)
            elif name == "sigmoid":
                torch.sigmoid(Z, out=out)
            else:
                out.copy_(Z)
            inputs.append(Q)
        logits = self.logits[rows]
        torch.mm(inputs[-1], self.W[-1].T, out=logits)
        top = len(self.W) - 1
        if self.triton is not None:  # softmax, δ_L, δ_L W_L ⊙ ψ' in one kernel
            W_L, Q = self.W[top], inputs[top]
            n_in, n_out = sizes[top], sizes[top + 1]
            delta = torch.empty(n, n_out, dtype=X.dtype, device=X.device)
            back = torch.empty(n, n_in, dtype=X.dtype, device=X.device)
            self.triton(self.logits, negY_all, rows.start, n, W_L[:, :n_in], Q[:, :n_in],
                        self.acts[top - 1], delta, back)  # fmt: skip
            self._update(top, delta, Q, lr, grads)
            delta, top = back, top - 1
        else:
            logP = torch.log_softmax(logits, dim=1)
            delta = aten._log_softmax_backward_data(negY, logP, 1, logP.dtype)  # P Σy − y
        for l in range(top, -1, -1):
            Wt, Q, n_in, n_out = self.W[l], inputs[l], sizes[l], sizes[l + 1]
            if l > 0:
                name = self.acts[l - 1]
                back = torch.mm(delta, Wt[:n_out, :n_in])  # δ_l W_l, before W_l moves
                Qh = Q[:, :n_in]
                if name == "relu":
                    back = aten.threshold_backward(back, Qh, 0)
                elif name == "tanh":
                    back = aten.tanh_backward(back, Qh)
                elif name == "sigmoid":
                    back = aten.sigmoid_backward(back, Qh)
            self._update(l, delta, Q, lr, grads)
            if l > 0:
                delta = back

    def _update(self, l: int, delta: Any, Q: Any, lr: float, grads: Any) -> None:
        """W̃_l ← W̃_l − γ d with ∇ = δ_lᵀ Q̃_{l-1}/n; plain SGD in one GEMM (its accumulate).

        With momentum μ (PyTorch's convention, as `mlpnet.optim.SGD`): v ← μ v + ∇ in one GEMM
        (``beta=μ``), d = v, or d = ∇ + μ v with Nesterov. `grads` are the (∇W_l, ∇b_l) views of
        the network's gradient buffer, which then receive ∇: an epoch's last step, whose gradient
        norms the fit loop reports.
        """
        torch, mu = self.torch, self.momentum
        n_in, n_out, n = self.net.sizes[l], self.net.sizes[l + 1], Q.shape[0]
        W = self.W[l][:n_out]
        if grads is None and not self.nesterov:
            if not mu:
                W.addmm_(delta.T, Q, alpha=-lr / n)
                return
            self.V[l].addmm_(delta.T, Q, beta=mu, alpha=1.0 / n)  # v ← μ v + ∇
            W.add_(self.V[l], alpha=-lr)
            return
        G = torch.mm(delta.T, Q)  # n ∇
        if grads is not None:
            gW, gb = grads[l]
            torch.mul(G[:, :n_in], 1.0 / n, out=gW)
            torch.mul(G[:, n_in], 1.0 / n, out=gb)
        if not mu:
            W.add_(G, alpha=-lr / n)
            return
        V = self.V[l]
        V.mul_(mu).add_(G, alpha=1.0 / n)
        if self.nesterov:  # d = ∇ + μ v
            W.add_(G, alpha=-lr / n)
            W.add_(V, alpha=-lr * mu)
        else:
            W.add_(V, alpha=-lr)

    def losses(self, negY: Any, batch_size: int, out: Any) -> None:
        """Each step's J = −Σ y log P / n from the kept logits: a handful of kernels per epoch."""
        torch = self.torch
        per_row = (negY * torch.log_softmax(self.logits, dim=1)).sum(dim=1)
        full, rest = divmod(per_row.shape[0], batch_size)
        out[:full].copy_(per_row[: full * batch_size].view(full, batch_size).mean(dim=1))
        if rest:
            out[full].copy_(per_row[full * batch_size :].mean())
