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

Two step functions: `mlpnet._lean_step.LeanStep` (the default where the network allows: ψ among
relu, tanh, sigmoid, identity and softmax cross-entropy), Algorithm 6.1 in 8 kernels a step for
one ReLU hidden layer; and, for every other network, Algorithm 6.1 from `mlpnet._xp_engine`
followed by θ ← θ − γ ∇J on the network's own flat θ and ∇θ (static addresses, as a graph
needs), in place.
"""

from __future__ import annotations

import math
import time
from typing import Any

from . import _xp_engine as engine
from ._lean_step import TORCH_ACTS, LeanStep, fusable
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
        Use the PyTorch-specific step (`mlpnet._lean_step.LeanStep`: the bias carried in the
        GEMMs, the update folded into the gradient GEMM, J computed once per epoch from the kept
        logits; 8 kernels a step for 784-200-10 ReLU on CUDA, against the generic step's 41)
        where the network allows it (None, the default), or not (False: the generic
        `mlpnet._xp_engine` step).
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
    rows : list of int
        The number of rows of each step (the last batch may be smaller).
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
        self.rows = [min(self.batch_size, self.n - i * self.batch_size) for i in range(self.steps)]
        self._weights = torch.tensor(self.rows, dtype=self.X.dtype, device=device) / self.n
        self._cuda_graph: Any = None
        can_fuse = fusable(net, self.loss)
        if fused and not can_fuse:
            raise ValueError(
                "fused=True needs hidden activations among "
                f"{sorted(TORCH_ACTS)} and softmax cross-entropy (identity logits, or softmax "
                "output with cross_entropy)"
            )
        self.fused = can_fuse if fused is None else bool(fused)
        if (momentum or nesterov) and not self.fused:
            raise ValueError("momentum needs the lean step (fused=True and a network it covers)")
        if nesterov and not momentum:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        self._lean = (
            LeanStep(
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
