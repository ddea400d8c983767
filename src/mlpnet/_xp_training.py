"""The fit loop on an array-API backend: data, θ, losses and metrics stay on the device.

`mlpnet.training.fit` hands a backend network's run here (`DeviceRun`). The data are moved once;
mini-batches are gathered on the device by a permutation drawn on the host from the same seeded
generator as the NumPy loop (so the same seed visits the rows in the same order on every backend),
sent once per epoch. Each step's J (a 0-d array), the running accuracy and the loss sums stay on the
device; they are read **once per epoch**, with the last batch's gradient norms.

Where each optimizer reads from the device (a "sync"):

- ``gd``, ``sgd`` (momentum, Nesterov), ``adam``: never inside an epoch (`sgd_update`,
  `adam_update`, the pure rules, run on the device);
- ``armijo``, ``exact_line_search``: once per trial point (J(θ − t∇J) is compared on the host;
  exact line search's Brent iteration is SciPy's, on the host) and once for ‖∇J‖²;
- ``random_search``: once per proposal (J(θ') < J(θ)); its ξ ~ N(0, I) is drawn on the host (the
  NumPy generator: the same proposals as on NumPy) and moved;
- ``lbfgs``: SciPy's L-BFGS-B runs on the host: θ and ∇J cross at every evaluation.

Divergence is detected once per epoch: θ is restored to its value at the start of that epoch
(the NumPy loop, which reads J every step, restores the last step with a finite J).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._types import as_batch_objective
from .backends import asarray, to_numpy
from .history import History
from .optim.adam import Adam, AdamState, adam_update
from .optim.line_search import LineSearch
from .optim.random_search import RandomSearch, RandomSearchState
from .optim.sgd import SGD, SGDState, sgd_update
from .training import FitRun

__all__ = ["DeviceRun", "device_step"]


def device_step(opt: Any, xp: Any) -> Any:
    """``step(θ, J, ∇J, objective) -> lr or None`` moving a device θ in place by `opt`'s rule."""
    if isinstance(opt, SGD) and type(opt).step is SGD.step:

        def sgd(theta: Any, J: Any, grad: Any, objective: Any) -> float | None:
            k, velocity = opt.state
            lr = float(opt.learning_rate(k))
            if opt.momentum and velocity is None:
                velocity = xp.zeros_like(theta)
            step, opt.state = sgd_update(
                grad, SGDState(k, velocity), lr, opt.momentum, opt.nesterov
            )
            theta += step
            return lr if opt.varying else None

        return sgd
    if isinstance(opt, Adam) and type(opt).step is Adam.step:

        def adam(theta: Any, J: Any, grad: Any, objective: Any) -> float | None:
            t, m, v = opt.state
            if m is None:
                m, v = xp.zeros_like(theta), xp.zeros_like(theta)
            lr = float(opt.learning_rate(t))
            step, opt.state = adam_update(
                grad, AdamState(t, m, v), lr, opt.beta1, opt.beta2, opt.eps
            )
            theta += step
            return lr if opt.varying else None

        return adam
    if isinstance(opt, LineSearch) and type(opt).step is LineSearch.step:

        def line_search(theta: Any, J: Any, grad: Any, objective: Any) -> float:
            d = xp.asarray(grad, copy=True)  # the objective reuses its gradient buffer

            def value_at(t: float) -> float:  # J(θ − t∇J); SciPy may pass a NumPy float
                return float(objective.value(theta - float(t) * d))

            t = float(opt.step_size(float(J), float(xp.sum(d * d)), value_at))
            if t > 0.0:
                theta[...] = theta - t * d  # bit for bit the point evaluated at t
            return t

        return line_search
    if isinstance(opt, RandomSearch) and type(opt).step is RandomSearch.step:

        def random_search(theta: Any, J: Any, grad: Any, objective: Any) -> None:
            k, accepted, rng = opt.state
            xi = rng.standard_normal(size=tuple(theta.shape), dtype=np.dtype(theta_dtype(theta)))
            trial = asarray(xi, objective.net.array_backend) * opt.scale + theta
            better = bool(objective.value(trial) < J)
            if better:
                theta[...] = trial
            opt.state = RandomSearchState(k + 1, accepted + int(better), rng)

        return random_search
    return opt.step  # a user's optimizer: it gets the device arrays as they are


def theta_dtype(theta: Any) -> str:
    """NumPy's name for θ's dtype ("float32" or "float64")."""
    return "float64" if "64" in str(theta.dtype) else "float32"


def hits(xp: Any, Yhat: Any, Y: Any, loss: Any) -> Any:
    """Samples classified correctly (a 0-d device array), `mlpnet.metrics.accuracy`'s rule.

    `Y` are the device targets as rows (labels were made one-hot rows when moved).
    """
    if getattr(loss, "name", loss) == "binary_cross_entropy" or Yhat.shape[1] == 1:
        right = xp.all((Yhat > 0.5) == (Y > 0.5), axis=1)
    else:
        right = xp.argmax(Yhat, axis=1) == xp.argmax(Y, axis=1)
    return xp.sum(xp.astype(right, Yhat.dtype))


GRAPH_DEVICES = ("cuda",)
"""Where `fit` runs plain mini-batch SGD as `mlpnet.epoch_graph.EpochGraph` epochs (a CUDA graph
per epoch); the tests add "cpu", where the same epochs run eagerly."""


class DeviceRun(FitRun):
    """`mlpnet.training.FitRun` for a backend network: one read per epoch instead of per step."""

    def train(
        self, opt: Any, data: Any, batch_size: int | None, shuffle: bool, seed: Any, tol: Any
    ) -> History:
        """Run `opt` for the epochs; full batch when `batch_size` is None."""
        if opt.owns_loop:
            return self._whole_on_host(opt, data, tol)
        if batch_size is not None and self._graph_applies(opt):
            return self._graph_epochs(opt, data, batch_size, shuffle, seed)
        batches = self._batches(data, batch_size, shuffle, seed)
        return self._steps(opt, batches, tol if batch_size is None else None)

    # -- batches on the device ----------------------------------------------------------------
    def _batches(self, data: Any, batch_size: int | None, shuffle: bool, seed: Any) -> Any:
        model, xp = self.model, self.model.array_backend.xp
        X, Y, n = data.X, data.Y, data.X.shape[0]
        rng = np.random.default_rng(seed)

        def epoch_batches(epoch: int) -> Any:
            if batch_size is None:
                yield data, n, True
                return
            order = asarray(rng.permutation(n), model.array_backend) if shuffle else None
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                if order is None:
                    Xb, Yb = X[start:stop, ...], Y[start:stop, ...]
                else:
                    rows = order[start:stop]
                    Xb, Yb = xp.take(X, rows, axis=0), xp.take(Y, rows, axis=0)
                yield model.objective(Xb, Yb, self.loss, check=False), stop - start, stop == n

        return epoch_batches

    # -- the step loop ------------------------------------------------------------------------
    def _steps(self, opt: Any, batches: Any, tol: float | None) -> History:
        theta, history, xp = self.theta, self.history, self.model.array_backend.xp
        step = device_step(opt, xp)
        uses_gradient = opt.uses_gradient
        n = self.X.shape[0]
        self._begin()
        try:
            for epoch in range(self.epochs):
                start = xp.asarray(theta, copy=True)  # the fallback if this epoch diverges
                Js, sizes, right, lrs = [], [], [], []
                norms, reached_tol = (math.nan,), False
                for objective, size, last in batches(epoch):
                    if uses_gradient:
                        J, grad = objective(theta)
                    else:
                        J, grad = objective.value(theta), None
                    Js.append(J)
                    sizes.append(size)
                    if self.classification:
                        right.append(hits(xp, objective.output, objective.Y, self.loss))
                    if last and grad is not None:
                        norms = self._grad_norms(grad)
                        if tol is not None and norms[0] <= tol:
                            reached_tol = True
                            break
                    lr = step(theta, J, grad, objective)
                    if lr is not None:
                        lrs.append(float(lr))
                losses = to_numpy(xp.stack(Js)).astype(np.float64)  # the one read of the epoch
                bad = np.flatnonzero(~np.isfinite(losses))
                if bad.size:
                    theta[...] = start
                    history.step_loss.extend(losses[: bad[0]].tolist())
                    raise self._diverged(epoch, float(losses[bad[0]]))
                history.step_loss.extend(losses[: len(losses) - reached_tol].tolist())
                history.lr.extend(lrs)
                accuracy = float(xp.sum(xp.stack(right))) / n if right else math.nan
                total = float(losses @ np.asarray(sizes, dtype=np.float64)) / n
                reason = self._end_epoch(epoch, total, norms, accuracy)
                if reached_tol or reason:
                    return self._end(reason or "tol")
            return self._end("epochs")
        except KeyboardInterrupt:
            return self._interrupted()
        finally:
            self._close_bar()

    # -- plain SGD on CUDA: each epoch one replay of a captured graph -----------------------------
    def _graph_applies(self, opt: Any) -> bool:
        """Whether the epochs can be `EpochGraph` replays.

        They can for SGD (with or without momentum) with a fixed γ, softmax cross-entropy and ψ
        the lean step knows, on CUDA, for two epochs or more (the capture costs about one eager
        epoch).
        """
        from ._lean_step import fusable

        model = self.model
        if model.backend != "torch":
            return False
        device = model.array_backend.device.type
        return (
            device in GRAPH_DEVICES
            and (self.epochs >= 2 or device != "cuda")
            and type(opt) is SGD
            and not opt.varying
            and model.sizes[-1] >= 2
            and fusable(model, self.loss)
        )

    def _graph_epochs(
        self, opt: SGD, data: Any, batch_size: int, shuffle: bool, seed: Any
    ) -> History:
        """`EpochGraph` epochs with the NumPy loop's bookkeeping; one read per epoch.

        The same row orders (drawn on the host from `seed`), J of every step, the running
        accuracy, the last batch's gradient norms, validation, callbacks and early stopping.
        """
        import torch

        from .epoch_graph import EpochGraph

        model, history, n = self.model, self.history, data.X.shape[0]
        run = EpochGraph(model, data.X, data.Y, loss=self.loss, lr=opt.learning_rate(0),
                         batch_size=batch_size, shuffle=shuffle,
                         graph=model.array_backend.device.type == "cuda", keep_gradient=True,
                         momentum=opt.momentum, nesterov=opt.nesterov)  # fmt: skip
        rng = np.random.default_rng(seed)
        sizes = np.asarray(run.rows, dtype=np.float64)
        self._begin()
        try:
            for epoch in range(self.epochs):
                start = model.params.clone()  # the fallback if this epoch diverges
                k, velocity = opt.state
                if run.velocity is not None and velocity is not run.velocity:  # state from before
                    if velocity is None:
                        run.velocity.zero_()
                    else:
                        run.velocity.copy_(asarray(velocity, model.array_backend))
                run.epoch(rng.permutation(n) if shuffle else None)
                read = torch.cat([run.losses.double(), run.hits().double().reshape(1)])
                values = read.cpu().numpy()  # the one read of the epoch
                losses, right = values[:-1], float(values[-1])
                bad = np.flatnonzero(~np.isfinite(losses))
                if bad.size:
                    model.params.copy_(start)
                    history.step_loss.extend(losses[: bad[0]].tolist())
                    raise self._diverged(epoch, float(losses[bad[0]]))
                history.step_loss.extend(losses.tolist())
                opt.state = SGDState(k + run.steps, run.velocity)
                norms = self._grad_norms(model.gradient_buffer[0])
                accuracy = right / n if self.classification else math.nan
                reason = self._end_epoch(epoch, float(losses @ sizes) / n, norms, accuracy)
                if reason:
                    return self._end(reason)
            return self._end("epochs")
        except KeyboardInterrupt:
            return self._interrupted()
        finally:
            self._close_bar()

    def _whole_on_host(self, opt: Any, data: Any, tol: Any) -> History:
        """L-BFGS (SciPy, on the host): θ and ∇J cross between host and device each evaluation."""
        device_theta = self.theta
        self.theta = to_numpy(device_theta).copy()

        def host_objective(theta: Any) -> tuple[float, Any]:
            J, grad = data(theta)
            return float(J), to_numpy(grad)

        host_objective.value = lambda theta: float(data.value(theta))  # type: ignore[attr-defined]
        try:
            return self.whole(opt, as_batch_objective(host_objective), tol)
        finally:
            self.theta = device_theta  # moved at every epoch end (`_end_epoch`)

    def _end_epoch(
        self, epoch: int, loss: float, norms: tuple[float, ...], train_accuracy: float = math.nan
    ) -> str | None:
        device_theta = self.model.params
        if self.theta is not device_theta:  # L-BFGS on the host: callbacks see the device θ
            device_theta[...] = asarray(self.theta, self.model.array_backend)
        return super()._end_epoch(epoch, loss, norms, train_accuracy)

    # -- per-epoch figures, computed on the device ----------------------------------------------
    def _grad_norms(self, grad: Any) -> tuple[float, ...]:
        if isinstance(grad, np.ndarray):  # L-BFGS's, on the host
            return super()._grad_norms(grad)
        xp = self.model.array_backend.xp
        squares = [xp.sum(grad * grad)] + [xp.sum(grad[s] * grad[s]) for s in self.slices]
        return tuple(float(v) for v in np.sqrt(to_numpy(xp.stack(squares)).astype(np.float64)))

    def _accuracy(self, X: Any, Y: Any, objective: Any = None) -> float:
        output = None if objective is None else objective.output
        if output is None:
            output = self.model.predict(X)
        return float(hits(self.model.array_backend.xp, output, Y, self.loss)) / X.shape[0]

    def _validate(self) -> tuple[float, float]:
        total, right, n = 0.0, 0.0, self.val_XY[0].shape[0]
        for part, size in self.val_parts:
            total += float(part.value(self.theta)) * size
            if self.classification:
                right += self._accuracy(part.X, part.Y, part) * size
        return total / n, right / n
