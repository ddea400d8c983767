"""A whole epoch of mini-batch SGD as one CUDA graph, replayed: the launch cost paid once.

On a GPU a batch-100 step of a 784-200-10 network is a few microseconds of arithmetic but a dozen
kernel launches, each ~5–10 µs from Python: the epoch is launch-bound. `EpochGraph` keeps the data
resident on the device, shuffles by a device permutation (a gather into a static buffer, outside
the graph), captures the ⌈N/B⌉ steps of an epoch **once** with ``torch.cuda.CUDAGraph`` and then
replays the graph each epoch. Each step's J is written into a device vector; the epoch's mean loss
is read once per epoch.

CuPy's stream capture refuses cuBLAS calls (CuPy 14: "calling cuBLAS API during stream capture is
currently unsupported"), so the graph path is PyTorch's; ``graph=False`` (the default off CUDA)
runs the very same step function eagerly, which is how the CPU test suite checks it.

The step is Algorithm 6.1 from `mlpnet._xp_engine` followed by θ ← θ − γ ∇J; θ and ∇θ are the
network's own flat arrays (static addresses, as a graph needs), updated in place.
"""

from __future__ import annotations

import math
import time
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
        Use the PyTorch-specific step (`_fused_step`: ``addmm`` with the bias, ``log_softmax``,
        gradients written by ``out=`` into ∇θ's slots, 19 kernels a step instead of the
        generic engine's 37) where the network allows it (None, the default), or not (False: the
        generic `mlpnet._xp_engine` step).

    Attributes
    ----------
    losses : tensor of shape (steps,)
        J of every step of the latest epoch (on the device).
    order : tensor of shape (N,) or None
        The permutation of the latest epoch (None without shuffling).
    """

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
        self._labels = len(getattr(Y, "shape", ())) == 1  # one-hot rows: Σ_k y_k = 1
        self.X, self.Y = check_data(net, X, Y, self.loss)
        self.n = self.X.shape[0]
        self.batch_size = min(int(batch_size), self.n)
        self.steps = math.ceil(self.n / self.batch_size)
        device = net.device
        self.graph = device.type == "cuda" if graph is None else bool(graph)
        if self.graph and device.type != "cuda":
            raise ValueError("graph=True needs a CUDA device (net.to('torch', 'cuda'))")
        self.shuffle = bool(shuffle)
        self._Xs = torch.empty_like(self.X) if shuffle else self.X  # static, shuffled copies
        self._Ys = torch.empty_like(self.Y) if shuffle else self.Y
        self._gen = torch.Generator(device=device).manual_seed(int(seed))
        self.losses = torch.zeros(self.steps, dtype=self.X.dtype, device=device)
        self.order: Any = None
        sizes = [min(self.batch_size, self.n - i * self.batch_size) for i in range(self.steps)]
        self._weights = torch.tensor(sizes, dtype=self.X.dtype, device=device) / self.n
        self._cuda_graph: Any = None
        can_fuse = _fusable(net, self.loss)
        if fused and not can_fuse:
            raise ValueError(
                "fused=True needs hidden activations among "
                f"{sorted(_TORCH_ACTS)} and softmax cross-entropy (identity logits, or softmax "
                "output with cross_entropy)"
            )
        self.fused = can_fuse if fused is None else bool(fused)

    def _step(self, i: int) -> None:
        """Step i of the epoch: J and ∇J on batch i, then θ ← θ − γ∇J, in place (graph-safe)."""
        net, xp = self.net, self.net.array_backend.xp
        rows = slice(i * self.batch_size, min((i + 1) * self.batch_size, self.n))
        if self.fused:
            Xb, Yb = self._Xs[rows], self._Ys[rows]
            self.losses[i] = _fused_step(net, Xb, Yb, self.lr, self._labels)
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
        for i in range(self.steps):
            self._step(i)

    def _permute(self) -> None:
        """A new order of the rows, drawn and applied on the device (outside the graph)."""
        if not self.shuffle:
            return
        import torch

        self.order = torch.randperm(self.n, generator=self._gen, device=self.X.device)
        torch.index_select(self.X, 0, self.order, out=self._Xs)
        torch.index_select(self.Y, 0, self.order, out=self._Ys)

    def capture(self) -> None:
        """Warm up on a side stream (θ restored after), then capture one epoch as a CUDA graph."""
        import torch

        theta0 = self.net.params.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for i in range(min(3, self.steps)):
                self._step(i)
        torch.cuda.current_stream().wait_stream(side)
        self.net.params.copy_(theta0)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._body()
        self._cuda_graph = graph

    def epoch(self) -> Any:
        """Run one epoch; return its mean loss as a 0-d device tensor (nothing is read)."""
        self._permute()
        if self.graph:
            if self._cuda_graph is None:
                self.capture()
            self._cuda_graph.replay()
        else:
            self._body()
        return (self.losses * self._weights).sum()

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


_TORCH_ACTS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "identity": None}


def _fusable(net: Any, loss: Any) -> bool:
    """Whether `_fused_step` covers the network: hidden ψ it knows, softmax cross-entropy."""
    acts = [a.name for a in net._xp_acts]
    hidden_ok = all(a in _TORCH_ACTS for a in acts[:-1])
    pair = (acts[-1], loss.name)
    return hidden_ok and pair in (
        ("identity", "softmax_cross_entropy"),
        ("softmax", "cross_entropy"),
    )


def _fused_step(net: Any, X: Any, Y: Any, lr: float, one_hot: bool = False) -> Any:
    """One SGD step in few PyTorch kernels, the same formulas as Algorithm 6.1; returns J (0-d).

    Z_l = addmm(b_l, Q_{l-1}, W_lᵀ); log P = log_softmax(Z_L); J = −Σ Y ⊙ log P / n;
    δ_L = (P ⊙ Σ_k y_k − Y)/n; ∇W_l = δ_lᵀ Q_{l-1} and ∇b_l = Σ_rows δ_l written by ``out=`` into
    the gradient's slots; θ ← θ − γ ∇θ. With `one_hot` (targets from labels) Σ_k y_k = 1 is not
    recomputed.
    """
    import torch

    params, (_, grads), acts = net.layer_params(net.params), net.gradient_buffer, net._xp_acts
    Qs, Zs = [X], []
    for (W, b), act in zip(params[:-1], acts[:-1], strict=True):
        Z = torch.addmm(b, Qs[-1], W.T)
        Zs.append(Z)
        fn = _TORCH_ACTS[act.name]
        Qs.append(Z if fn is None else getattr(torch, fn)(Z))
    W, b = params[-1]
    logP = torch.log_softmax(torch.addmm(b, Qs[-1], W.T), dim=1)
    n = X.shape[0]
    J = (Y * logP).sum().mul_(-1.0 / n)  # −Σ y log p / n (labels are one-hot rows here)
    P = torch.exp(logP)
    if not one_hot:
        P.mul_(Y.sum(dim=1, keepdim=True))
    delta = P.sub_(Y).mul_(1.0 / n)
    for l in range(len(params) - 1, -1, -1):
        gW, gb = grads[l]
        torch.mm(delta.T, Qs[l], out=gW)
        torch.sum(delta, dim=0, out=gb)
        if l > 0:
            delta = delta @ params[l][0]
            name, Q = acts[l - 1].name, Qs[l]
            if name == "relu":
                delta.mul_(Zs[l - 1] > 0)
            elif name == "tanh":
                delta.mul_(1.0 - Q * Q)
            elif name == "sigmoid":
                delta.mul_(Q * (1.0 - Q))
    net.params.sub_(net.gradient_buffer[0], alpha=lr)
    return J
