"""A whole epoch of mini-batch SGD as one CUDA graph, replayed: the launch cost paid once.

On a GPU a batch-100 step of a 784-200-10 network is a few microseconds of arithmetic but a dozen
kernel launches, each ~5–10 µs from Python: the epoch is launch-bound. `EpochGraph` keeps the data
resident on the device, shuffles by a device permutation (a gather into a static buffer, outside
the graph), captures the ⌈N/B⌉ steps of an epoch **once** with ``torch.cuda.CUDAGraph`` and then
replays the graph each epoch. The steps' J's land in a device vector; the epoch's losses are read
once per epoch.

CuPy's stream capture refuses cuBLAS calls (CuPy 14: "calling cuBLAS API during stream capture is
currently unsupported"), so the graph path is PyTorch's; ``graph=False`` (the default off CUDA)
runs the very same step function eagerly, which is how the CPU test suite checks it.

Two step functions: `_LeanStep` (the default where the network allows: ψ among relu, tanh,
sigmoid, identity and softmax cross-entropy), Algorithm 6.1 in 8 kernels a step for one ReLU
hidden layer; and, for every other network, Algorithm 6.1 from `mlpnet._xp_engine` followed by
θ ← θ − γ ∇J on the network's own flat θ and ∇θ (static addresses, as a graph needs), in place.
"""

from __future__ import annotations

import math
import time
from itertools import pairwise
from typing import Any

from . import _xp_engine as engine
from ._xp_network import check_data
from .errors import TrainingDiverged
from .history import EpochLogs, History
from .losses import check_pairing, get_loss

__all__ = ["EpochGraph"]


class EpochGraph:
    """Epochs of plain mini-batch SGD on a ``backend="torch"`` network, one graph replay each.

    Parameters
    ----------
    net : Network
        A network with ``backend="torch"``; its θ is trained in place.
    X, Y : arrays
        The data (NumPy or torch); moved to the device once, labels as one-hot rows.
    loss : str or loss
        A built-in loss.
    lr : float
        The constant step γ of θ ← θ − γ ∇J_B.
    batch_size : int
        B; the last batch of an epoch may be smaller.
    shuffle : bool, default True
        Visit the rows in a new order each epoch: ``torch.randperm`` on the device, seeded.
    seed : int, default 0
        Seed of the device generator of the permutations.
    graph : bool or None
        Capture and replay a CUDA graph; None (default) does so on a CUDA device, else eager.
    fused : bool or None
        Use the PyTorch-specific step (`_LeanStep`: the bias carried in the GEMMs, the update
        folded into the gradient GEMM, J computed once per epoch from the kept logits; 9 kernels
        a step for one hidden layer, against the generic engine's 37) where the network allows it
        (None, the default), or not (False: the
        generic `mlpnet._xp_engine` step).
    keep_gradient : bool, default False
        Write the last step's ∇J of each epoch into ``net.gradient_buffer`` (what `fit` reports
        as the epoch's gradient norms); the lean step otherwise stores no gradient.
    momentum : float, default 0.0
        μ of `mlpnet.optim.SGD` (v ← μ v + ∇J, θ ← θ − γ v); needs the lean step.
    nesterov : bool, default False
        Step along ∇J + μ v, as `mlpnet.optim.SGD`.

    Attributes
    ----------
    losses : tensor of shape (steps,)
        J of every step of the latest epoch (on the device).
    order : tensor of shape (N,) or None
        The permutation of the latest epoch (None without shuffling).
    velocity : tensor of θ's shape, or None
        The momentum buffer v in θ's layout (None without momentum); it carries over from epoch
        to epoch, and may be written before an epoch (e.g. an optimizer's saved state).
    """

    _fuse_relu = True  # ReLU through cuBLASLt's epilogue (False: a separate kernel; for benchmarks)
    _triton: Any = None  # the softmax-δ kernel: None where it applies, False never, or a function

    def __init__(
        self,
        net: Any,
        X: Any,
        Y: Any,
        *,
        loss: Any,
        lr: float,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        graph: bool | None = None,
        fused: bool | None = None,
        keep_gradient: bool = False,
        momentum: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if net.backend != "torch":
            raise ValueError(f"EpochGraph needs a backend='torch' network, got {net.backend!r}")
        import torch

        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.net, self.lr, self.loss = net, float(lr), get_loss(loss)
        check_pairing(self.loss, net.activations[-1])
        self.X, self.Y = check_data(net, X, Y, self.loss)
        self.n = self.X.shape[0]
        self.batch_size = min(int(batch_size), self.n)
        self.steps = math.ceil(self.n / self.batch_size)
        device = net.device
        self.graph = device.type == "cuda" if graph is None else bool(graph)
        if self.graph and device.type != "cuda":
            raise ValueError("graph=True needs a CUDA device (net.to('torch', 'cuda'))")
        self.shuffle = bool(shuffle)
        self.keep_gradient = bool(keep_gradient)
        self._gen = torch.Generator(device=device).manual_seed(int(seed))
        self.losses = torch.zeros(self.steps, dtype=self.X.dtype, device=device)
        self.order: Any = None
        sizes = [min(self.batch_size, self.n - i * self.batch_size) for i in range(self.steps)]
        self._weights = torch.tensor(sizes, dtype=self.X.dtype, device=device) / self.n
        self._cuda_graph: Any = None
        can_fuse = fusable(net, self.loss)
        if fused and not can_fuse:
            raise ValueError(
                "fused=True needs hidden activations among "
                f"{sorted(_TORCH_ACTS)} and softmax cross-entropy (identity logits, or softmax "
                "output with cross_entropy)"
            )
        self.fused = can_fuse if fused is None else bool(fused)
        if (momentum or nesterov) and not self.fused:
            raise ValueError("momentum needs the lean step (fused=True and a network it covers)")
        if nesterov and not momentum:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        self._lean = (
            _LeanStep(
                net,
                self.X,
                self.Y,
                self.batch_size,
                self._fuse_relu,
                self._triton,
                momentum,
                nesterov,
            )  # fmt: skip
            if self.fused
            else None
        )
        if self._lean is not None:  # the lean step reads X̃ = [X | 1] and −y instead
            self.X, self.Y = self._lean.X, self._lean.Y
        self._Xs = torch.empty_like(self.X) if shuffle else self.X  # static, shuffled copies
        self._Ys = torch.empty_like(self.Y) if shuffle else self.Y

    @property
    def velocity(self) -> Any:
        """The momentum buffer v in θ's layout (a device tensor), or None without momentum."""
        return None if self._lean is None else self._lean.velocity

    def _rows(self, i: int) -> slice:
        return slice(i * self.batch_size, min((i + 1) * self.batch_size, self.n))

    def _step(self, i: int) -> None:
        """Step i of the epoch: J and ∇J on batch i, then θ ← θ − γ∇J, in place (graph-safe)."""
        net, xp = self.net, self.net.array_backend.xp
        rows = self._rows(i)
        if self._lean is not None:
            last = self.keep_gradient and i == self.steps - 1
            grads = engine.views(xp, net.gradient_buffer[0], net.sizes) if last else None
            self._lean.step(self._Xs, self._Ys, rows, self.lr, grads)
            return
        params = engine.views(xp, net.params, net.sizes)
        Qs, Zs = engine.forward(xp, params, net._xp_acts, self._Xs[rows])
        J, delta = engine.loss_and_delta(
            xp, self.loss, net._xp_acts[-1], Zs[-1], Qs[-1], self._Ys[rows]
        )
        grad = engine.backward(xp, params, net._xp_acts, Qs, Zs, delta, net.gradient_buffer[0])
        net.params.sub_(grad, alpha=self.lr)
        self.losses[i] = J

    def _body(self) -> None:
        """One epoch's steps (what the graph holds); the lean step also copies θ in and out."""
        if self._lean is not None:
            self._lean.load()
        for i in range(self.steps):
            self._step(i)
        if self._lean is not None:
            self._lean.store()
            self._lean.losses(self._Ys, self.batch_size, self.losses)

    def _permute(self, order: Any = None) -> None:
        """A new order of the rows, drawn or given, applied on the device (outside the graph)."""
        if not self.shuffle:
            if order is not None:
                raise ValueError("an order was given to an EpochGraph made with shuffle=False")
            return
        import torch

        if order is None:
            self.order = torch.randperm(self.n, generator=self._gen, device=self.X.device)
        else:
            self.order = torch.as_tensor(order, device=self.X.device).long()
            if self.order.shape != (self.n,):
                raise ValueError(f"order must hold the {self.n} row indices, got {order.shape}")
        torch.index_select(self.X, 0, self.order, out=self._Xs)
        torch.index_select(self.Y, 0, self.order, out=self._Ys)

    def capture(self) -> None:
        """Warm up on a side stream (θ restored after), then capture one epoch as a CUDA graph."""
        import torch

        theta0 = self.net.params.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            if self._lean is not None:
                self._lean.load()
            for i in sorted({*range(min(3, self.steps)), self.steps - 1}):
                self._step(i)
        torch.cuda.current_stream().wait_stream(side)
        self.net.params.copy_(theta0)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._body()
        self._cuda_graph = graph

    def epoch(self, order: Any = None) -> Any:
        """Run one epoch; return its mean loss as a 0-d device tensor (nothing is read).

        `order` (with ``shuffle=True``): the rows' order for this epoch, e.g. a host permutation
        drawn as the NumPy loop draws it; by default a device permutation.
        """
        self._permute(order)
        if self.graph:
            if self._cuda_graph is None:
                self.capture()
            self._cuda_graph.replay()
        else:
            self._body()
        return (self.losses * self._weights).sum()

    def hits(self) -> Any:
        """Rows of the latest epoch classified right before their step (a 0-d device tensor).

        The rule of `mlpnet.metrics.accuracy`: the largest logit against the largest target.
        Needs the lean step, which keeps each step's logits.
        """
        if self._lean is None:
            raise ValueError("hits() needs the lean step (fused=True), which keeps the logits")
        import torch

        right = torch.argmax(self._lean.logits, dim=1) == torch.argmax(-self._Ys, dim=1)
        return right.sum()

    def fit(self, epochs: int) -> History:
        """Run `epochs` epochs, reading the losses once per epoch; → a `History` of the losses.

        Raises
        ------
        TrainingDiverged
            When an epoch's loss is not finite; θ is restored to that epoch's start.
        """
        history, began = History(), time.perf_counter()
        for e in range(int(epochs)):
            start = self.net.params.clone()
            mean = self.epoch()
            steps = self.losses.double().cpu().numpy()  # the one read of the epoch
            if not math.isfinite(float(mean)) or not all(map(math.isfinite, steps)):
                self.net.params.copy_(start)
                history.stop_reason = "diverged"
                raise TrainingDiverged(
                    f"training diverged in epoch {e}: loss {float(mean)}", history
                )
            history.step_loss.extend(steps.tolist())
            history.append(EpochLogs(e, float(mean), seconds=time.perf_counter() - began))
        history.stop_reason = "epochs"
        return history


_TORCH_ACTS = {"relu", "tanh", "sigmoid", "identity"}


def fusable(net: Any, loss: Any) -> bool:
    """Whether `_LeanStep` covers the network: hidden ψ it knows, softmax cross-entropy."""
    acts = [a.name for a in net._xp_acts]
    hidden_ok = all(a in _TORCH_ACTS for a in acts[:-1])
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


class _LeanStep:
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
        from . import _xp_engine as engine

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
