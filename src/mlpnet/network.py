"""The network f = f_L ∘ … ∘ f_1 with f_l(q) = ψ_l(W_l q + b_l), owning θ (eq. 6.17)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from itertools import pairwise
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from . import backprop
from ._checks import check_finite, check_X, check_Y
from ._sampling import check_dropout, check_sample_weight, draw_masks, normalized
from ._spec import NETWORK_FORMAT, network_layout
from ._theta import layer_slices, layer_views, n_params
from ._types import Array
from .activations import LeakyReLU, ReLU, Softmax, activation_from_spec, activation_spec
from .backends import NUMPY, Backend, get_backend, to_numpy
from .initializers import get_initializer
from .layers import Dense
from .losses import check_pairing, get_loss
from .objective import NetworkObjective

if TYPE_CHECKING:
    from .callbacks import Callback
    from .history import History

__all__ = ["Network", "load"]

FORMAT = NETWORK_FORMAT
_DTYPES = {"float32": np.float32, "float64": np.float64}


def _check_dtype(dtype: Any) -> np.dtype:
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return np.dtype(_DTYPES[name])


class Network:
    """A fully-connected feedforward network, all parameters in one vector θ.

    Parameters
    ----------
    layers : list of int or list of Dense
        Layer sizes ``[n_0, n_1, …, n_L]``, or the `Dense` layers themselves (then `activation`
        and `output_activation` are not used).
    activation : str, activation object or (f, df) pair
        ψ of the hidden layers. Default ``"relu"``.
    output_activation : str, activation object or (f, df) pair
        ψ_L. Default ``"identity"``.
    init : str, callable or None
        Weight initialiser; None picks ``"he"`` for ReLU-family layers and ``"xavier"`` otherwise.
        Biases start at 0 unless the initialiser is ``"normal"`` or ``"uniform"``.
    seed : int or None
        Seed of the `numpy.random.Generator` that draws θ.
    dtype : {"float32", "float64"}
        Floating type of θ and of every computation.
    dropout : float, default 0.0
        Rate p of inverted dropout on every hidden layer's output while training (sets each hidden
        `Dense`'s ``dropout``; with Dense layers given, their own rates are kept unless this is
        non-zero). Training draws the masks (``fit(seed=…)``); ``predict`` never drops.
    backend : {"numpy", "torch", "cupy", "array_api_strict"}
        The array library θ and the computations live in (`mlpnet.backends`); θ is drawn by NumPy
        and moved, so every backend starts from the same θ for the same seed.
    device : str or None
        The backend's device, e.g. ``"cuda"`` for PyTorch; None is the library's default.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        θ = [vec(W_1), b_1, …, vec(W_L), b_L], W row-major; ``layer.W``/``layer.b`` are views.
    layers : list of Dense
    sizes : list of int
        ``[n_0, …, n_L]``.

    Examples
    --------
    >>> import mlpnet
    >>> net = mlpnet.Network([2, 2, 1], activation="relu", seed=0)
    >>> net.params = [1, 1, 1, 1, 0, -1, 1, -2, 0]  # the notes' XOR network
    >>> net.predict([[0, 0], [0, 1], [1, 0], [1, 1]]).ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """

    def __init__(
        self,
        layers: Sequence[int] | Sequence[Dense],
        *,
        activation: Any = "relu",
        output_activation: Any = "identity",
        init: Any = None,
        seed: int | None = None,
        dtype: Any = "float32",
        dropout: float = 0.0,
        backend: str | Backend = "numpy",
        device: Any = None,
    ) -> None:
        self._dtype = _check_dtype(dtype)
        target = get_backend(backend, device)
        self._backend = NUMPY
        self.layers = _build_layers(layers, activation, output_activation)
        dropout = check_dropout(dropout)
        for layer in self.layers[:-1]:
            if dropout or not hasattr(layer, "dropout"):
                layer.dropout = dropout
        if getattr(self.layers[-1], "dropout", 0.0):
            raise ValueError(
                f"dropout is for hidden layers; the output layer has dropout="
                f"{self.layers[-1].dropout}"
            )
        if init is not None:
            get_initializer(init)
        self.sizes = [self.layers[0].n_in] + [layer.n_out for layer in self.layers]
        self._theta = np.zeros(n_params(self.sizes), dtype=self._dtype)
        self._views = layer_views(self._theta, self.sizes)
        self._grad = np.zeros_like(self._theta)  # reused by every objective: no per-step allocation
        self._grad_views = layer_views(self._grad, self.sizes)
        rng = np.random.default_rng(seed)
        for layer, (W, b) in zip(self.layers, self._views, strict=True):
            keep = layer.has_parameters
            layer.bind(W, b, keep)
            if not keep:
                _initialise(layer, layer.init if layer.init is not None else init, rng)
        self._acts = [layer.activation for layer in self.layers]
        self._moved(target)

    # ---------------------------------------------------------------- θ and its description
    @property
    def params(self) -> Array:
        """θ, the live parameter vector (eq. 6.17); assigning copies into it."""
        return self._theta

    @params.setter
    def params(self, theta: ArrayLike) -> None:
        if not self._backend.is_numpy:
            return _xp_network().set_params(self, theta)
        theta = np.asarray(to_numpy(theta))
        if theta.shape != self._theta.shape:
            raise ValueError(f"expected {self.n_params} parameters, got shape {theta.shape}")
        check_finite(theta, "params")
        self._theta[...] = theta

    @property
    def n_params(self) -> int:
        """|θ| = Σ_l n_l (n_{l-1} + 1)."""
        return n_params(self.sizes)

    @property
    def dtype(self) -> np.dtype:
        """Floating type of θ and of the computations."""
        return self._dtype

    @property
    def dropout_rates(self) -> list[float]:
        """The dropout rate p_l of each layer's output (0 for the output layer)."""
        return [getattr(layer, "dropout", 0.0) for layer in self.layers]  # 0: pickled before it

    def dropout_masks(
        self, n: int, rng: np.random.Generator, rate: float | None = None
    ) -> list[Array | None] | None:
        """Draw inverted-dropout masks M_l for a batch of `n` rows, one per layer (None: no drop).

        Each hidden unit is kept with probability 1 − p_l and scaled by 1/(1 − p_l); `rate`, if
        given, replaces every hidden layer's own p_l. Returns None when no layer drops. Pass the
        result as ``masks=`` to `objective` or `loss_and_gradient` to train (or gradient-check)
        the sampled sub-network.
        """
        rates = self.dropout_rates
        if rate is not None:
            rates = [check_dropout(rate)] * (len(rates) - 1) + [0.0]
        return draw_masks(rates, n, self.sizes[1:], self._dtype, rng)

    @property
    def layer_slices(self) -> list[slice]:
        """The slice of θ (and of ∇θ) holding [vec(W_l), b_l] for each layer."""
        return layer_slices(self.sizes)

    @property
    def backend(self) -> str:
        """The name of the array library of θ: "numpy", "torch", "cupy" or "array_api_strict"."""
        return self._backend.name

    @property
    def device(self) -> Any:
        """The backend's device (None for NumPy and array_api_strict)."""
        return self._backend.device

    @property
    def activations(self) -> list[Any]:
        """ψ_1, …, ψ_L: each layer's activation."""
        return self._acts

    @property
    def gradient_buffer(self) -> tuple[Array, list[tuple[Array, Array]]]:
        """The reused ∇θ buffer and its (∇W_l, ∇b_l) views, laid out like θ (eq. 6.17).

        Objectives write ∇J into it (no allocation per step); copy what must be kept.
        """
        return self._grad, self._grad_views

    @property
    def array_backend(self) -> Backend:
        """The `mlpnet.backends.Backend` of θ: its namespace ``xp``, device and moves."""
        return self._backend

    def copy(self, dtype: Any = None) -> Network:
        """An independent network with the same architecture, θ and backend (optionally cast)."""
        return self._host_copy(self._dtype if dtype is None else dtype)._moved(self._backend)

    def to(self, backend: str | Backend, device: Any = None) -> Network:
        """A copy of the network whose θ lives in `backend` on `device` (`mlpnet.backends`)."""
        return self._host_copy(self._dtype)._moved(get_backend(backend, device))

    def _host_copy(self, dtype: Any) -> Network:
        layers = [
            Dense(layer.n_in, layer.n_out, layer.activation, dropout=getattr(layer, "dropout", 0.0))
            for layer in self.layers
        ]
        net = Network(layers, dtype=dtype)
        net._theta[...] = to_numpy(self._theta)
        return net

    def _need_numpy(self, what: str) -> None:
        if not self._backend.is_numpy:
            raise ValueError(f"{what} needs the numpy backend: use net.to('numpy').{what}(…)")

    def _moved(self, backend: Backend) -> Network:
        """Move this NumPy network's θ to `backend` (in place; the constructor's last step)."""
        if not backend.is_numpy:
            _xp_network().attach(self, backend)
        return self

    def summary(self) -> str:
        """A text table of the layers: shapes, activations, parameter counts."""
        rows = [("layer", "W shape", "activation", "params")]
        for i, layer in enumerate(self.layers, 1):
            act = getattr(layer.activation, "name", repr(layer.activation))
            rows.append(
                (str(i), f"{layer.n_out} × {layer.n_in}", act, str(layer.n_out * (layer.n_in + 1)))
            )
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total: {self.n_params} parameters ({self._dtype.name}), sizes {self.sizes}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        acts = [getattr(a, "name", repr(a)) for a in self._acts]
        return f"Network(sizes={self.sizes}, activations={acts}, dtype={self._dtype.name!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as layers + θ: the views into θ are rebuilt on unpickling, not copied."""
        theta = to_numpy(self._theta)
        state = {"layers": self.layers, "dtype": self._dtype.name, "theta": theta}
        if not self._backend.is_numpy:  # the layers' W, b as host views: no device arrays pickled
            layers = [copy.copy(layer) for layer in self.layers]
            for layer, (W, b) in zip(layers, layer_views(theta, self.sizes), strict=True):
                layer._W, layer._b = W, b
            state |= {"layers": layers, "backend": self._backend.spec()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for layer in state["layers"]:
            layer._assigned = True  # keep the pickled values when rebinding
        self.__init__(state["layers"], dtype=state["dtype"])
        self._theta[...] = state["theta"]
        if "backend" in state:
            self._moved(get_backend(*state["backend"]))

    # ---------------------------------------------------------------- forward pass
    def forward(self, X: ArrayLike) -> Array:
        """Network outputs Ŷ = f(X), shape ``(n, n_L)``; a 1-D X is one sample → 1-D result."""
        if not self._backend.is_numpy:  # an array of the backend, on its device
            return _xp_network().forward(self, X)
        X, one = check_X(X, self.sizes[0], self._dtype)
        Y = backprop.output(self._views, self._acts, X)[1]
        return Y[0] if one else Y

    __call__ = forward
    predict = forward

    def forward_cache(self, X: ArrayLike) -> backprop.Cache:
        """Forward pass storing Q_0 = X, every Z_l and Q_l (Algorithm 6.1), for `backward`."""
        self._need_numpy("forward_cache")
        X, _ = check_X(X, self.sizes[0], self._dtype)
        return backprop.forward(self._views, self._acts, X)

    # ---------------------------------------------------------------- loss and backpropagation
    def output_delta(self, cache: backprop.Cache, Y: ArrayLike, loss: Any) -> Array:
        """δ_L = ∂J/∂Z_L for the batch of `cache` (the 1/n of the mean included)."""
        self._need_numpy("output_delta")
        loss = self._loss_for(loss)
        Y = check_Y(Y, cache.Q[0].shape[0], self.sizes[-1], loss, self._dtype)
        return backprop.loss_and_delta(loss, self._acts[-1], cache.Z[-1], cache.Q[-1], Y)[1]

    def backward(self, cache: backprop.Cache, delta: ArrayLike, out: Array | None = None) -> Array:
        """Backward recursion of Algorithm 6.1: ∇θ J from the cache and δ_L = ∂J/∂Z_L.

        Parameters
        ----------
        cache : Cache
            From `forward_cache` on the same θ.
        delta : array of shape (n, n_L)
            The output error δ_L (for a mean loss, including its 1/n), e.g. from `output_delta`.
        out : array of shape (n_params,), optional
            Where to write the gradient; a new array by default.

        Returns
        -------
        ndarray of shape (n_params,)
            The gradient, laid out exactly like `params`.
        """
        self._need_numpy("backward")
        grad = np.empty_like(self._theta) if out is None else out
        delta = np.asarray(delta, dtype=self._dtype)
        if delta.shape != cache.Z[-1].shape:
            raise ValueError(f"delta must have shape {cache.Z[-1].shape}, got {delta.shape}")
        backprop.backward(self._views, self._acts, cache, delta, layer_views(grad, self.sizes))
        return grad

    def loss(
        self, X: ArrayLike, Y: ArrayLike, loss: Any, sample_weight: ArrayLike | None = None
    ) -> float:
        """J = mean over the rows of the per-sample loss (Σ w_i ℓ_i / Σ w_i if weighted)."""
        return float(self.objective(X, Y, loss, sample_weight=sample_weight).value(self._theta))

    def loss_and_gradient(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        loss: Any,
        sample_weight: ArrayLike | None = None,
        masks: Sequence[Array | None] | None = None,
    ) -> tuple[float, Array]:
        """``(J, ∇θ J)`` at the current θ, by backpropagation; ∇θ J has the layout of `params`.

        `sample_weight` (w_i ≥ 0) makes J = Σ w_i ℓ_i / Σ w_i; `masks` (from `dropout_masks`)
        makes it J of that sampled sub-network, whose gradient this is exactly. On an array-API
        backend ∇θ J stays on the device and J is read.
        """
        J, grad = self.objective(X, Y, loss, sample_weight=sample_weight, masks=masks)(self._theta)
        if not self._backend.is_numpy:
            return float(J), self._backend.xp.asarray(grad, copy=True)
        return J, grad.copy()

    def objective(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        loss: Any,
        *,
        check: bool = True,
        sample_weight: ArrayLike | None = None,
        masks: Sequence[Array | None] | None = None,
    ) -> NetworkObjective:
        """J on the data (X, Y) as a function of θ, for optimizers (see `NetworkObjective`).

        With ``check=False`` the inputs are trusted as they are (the fit loop validates the whole
        data set once, then builds one objective per mini-batch). `sample_weight` gives the
        weighted mean J = Σ w_i ℓ_i / Σ w_i; `masks` (one per layer, shape ``(n, n_l)`` or None)
        fix the dropout masks of every evaluation of this objective.
        """
        loss = self._loss_for(loss)
        if not self._backend.is_numpy:
            if sample_weight is not None or masks is not None:
                raise ValueError(
                    f"sample_weight and dropout masks need the numpy backend, not "
                    f"{self.backend!r}: use net.to('numpy')"
                )
            return _xp_network().objective(self, X, Y, loss, check)
        if check:
            X, one = check_X(X, self.sizes[0], self._dtype)
            Y = check_Y(Y, X.shape[0], self.sizes[-1], loss, self._dtype, one)
            if sample_weight is not None:
                sample_weight = check_sample_weight(sample_weight, X.shape[0])
            if masks is not None:
                masks = self._check_masks(masks, X.shape[0])
        weights = None if sample_weight is None else normalized(np.asarray(sample_weight))
        return NetworkObjective(self, X, Y, loss, weights, masks)

    def _check_masks(self, masks: Any, n: int) -> list[Array | None]:
        masks = list(masks)
        if len(masks) != len(self.layers) or masks[-1] is not None:
            raise ValueError(
                f"masks must be a list of {len(self.layers)} entries (arrays for hidden layers or "
                "None), the last None"
            )
        out: list[Array | None] = []
        for l, (M, n_out) in enumerate(zip(masks, self.sizes[1:], strict=True), 1):
            if M is not None:
                M = np.asarray(M, dtype=self._dtype)
                if M.shape != (n, n_out):
                    raise ValueError(f"mask {l} must have shape {(n, n_out)}, got {M.shape}")
            out.append(M)
        return out

    def _loss_for(self, loss: Any) -> Any:
        loss = get_loss(loss)
        check_pairing(loss, self._acts[-1])
        return loss

    def layer_params(self, theta: Array) -> list[tuple[Array, Array]]:
        """(W_l, b_l) of every layer for the parameter vector `theta`: views into it (eq. 6.17).

        For the network's own ``params`` these are the layers' ``W`` and ``b``; another vector of
        the same size is viewed the same way (what an objective evaluates J at).
        """
        if theta is self._theta:
            return self._views
        theta = np.asarray(theta, dtype=self._dtype)
        if theta.shape != self._theta.shape:
            raise ValueError(f"expected {self.n_params} parameters, got shape {theta.shape}")
        return layer_views(theta, self.sizes)

    # ---------------------------------------------------------------- training and saving
    def fit(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        *,
        loss: Any,
        optimizer: Any = "sgd",
        epochs: int = 10,
        batch_size: int | str | None = None,
        shuffle: bool = True,
        validation_data: tuple[ArrayLike, ...] | None = None,
        tol: float | None = None,
        patience: int | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool | None = None,
        seed: int | np.random.Generator | None = None,
        sample_weight: ArrayLike | None = None,
        dropout: float | None = None,
        threads: int | str | None = "auto",
        accuracy: bool = True,
    ) -> History:
        """Train from the current θ on (X, Y) and return the `History`.

        The arguments are those of `mlpnet.training.fit`, which documents each of them: the
        loss, the optimizer (object or name), epochs, ``batch_size`` (None: full batch, 1:
        online, else mini-batches), stopping by ``tol`` or ``patience``, callbacks, progress,
        seed, sample weights, dropout, BLAS threads and whether to record the accuracy.
        """
        from .training import fit

        return fit(
            self,
            X,
            Y,
            loss=loss,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            validation_data=validation_data,
            tol=tol,
            patience=patience,
            callbacks=callbacks,
            progress=progress,
            seed=seed,
            sample_weight=sample_weight,
            dropout=dropout,
            threads=threads,
            accuracy=accuracy,
        )

    def spec(self) -> dict[str, Any]:
        """The architecture as JSON-able data (what `save` stores beside θ)."""
        return {
            "format": FORMAT,
            "dtype": self._dtype.name,
            "layers": [
                {"n_in": l.n_in, "n_out": l.n_out, "activation": activation_spec(l.activation)}
                | ({"dropout": l.dropout} if getattr(l, "dropout", 0.0) else {})  # training only
                for l in self.layers
            ],
        }

    def save(self, path: str | PathLike[str]) -> None:
        """Write θ, the architecture (JSON) and a format version to one ``.npz`` at exactly `path`.

        The write is atomic: a crash leaves the old file (or none), never half of one.
        """
        from .io import save_npz

        save_npz(path, to_numpy(self._theta), self.spec())


Objective = NetworkObjective
"""The name `mlpnet` exports for `NetworkObjective` (its own module: `mlpnet.objective`)."""


def load(path: str | PathLike[str], backend: str = "numpy", device: Any = None) -> Network:
    """Read a network written by `Network.save` (no unpickling), onto `backend` and `device`.

    The architecture is checked (sizes true positive integers, layers that chain) and θ's length
    and dtype against it before θ is read: a hostile file costs memory and time in proportion to
    its size (see `mlpnet.io.load_npz`).

    Raises
    ------
    FileNotFoundError
        When `path` does not exist.
    ValueError
        Naming the file, when it is corrupt, truncated, hostile or not an mlpnet network.
    """
    from .io import load_npz

    theta, spec = load_npz(path, expect=network_layout)
    return network_from_spec(theta, spec, path)._moved(get_backend(backend, device))


def network_from_spec(theta: Array, spec: dict[str, Any], path: str | PathLike[str]) -> Network:
    """The network of a spec checked by `network_layout`, with θ (of its length and dtype)."""
    try:
        layers = [
            Dense(
                s["n_in"],
                s["n_out"],
                activation_from_spec(s["activation"]),
                dropout=s.get("dropout", 0.0),
            )
            for s in spec["layers"]
        ]
        net = Network(layers, dtype=spec["dtype"])
        net.params = theta
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a valid mlpnet network file ({err})") from None
    return net


def _xp_network() -> Any:
    """The array-API side of `Network` (`mlpnet._xp_network`), imported when first needed."""
    from . import _xp_network

    return _xp_network


def _build_layers(layers: Any, activation: Any, output_activation: Any) -> list[Dense]:
    """Dense layers from sizes, or the given Dense layers checked to chain."""
    layers = list(layers)
    if layers and all(isinstance(l, Dense) for l in layers):
        for i, (a, b) in enumerate(pairwise(layers), 1):
            if a.n_out != b.n_in:
                raise ValueError(
                    f"layer {i + 1} expects {b.n_in} inputs but layer {i} gives {a.n_out}"
                )
        built = layers
    elif len(layers) >= 2 and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in layers
    ):
        if min(layers) < 1:
            raise ValueError(f"layer sizes must be positive integers, got {layers}")
        acts = [activation] * (len(layers) - 2) + [output_activation]
        shapes = zip(pairwise(layers), acts, strict=True)
        built = [Dense(int(i), int(o), act) for (i, o), act in shapes]
    else:
        raise ValueError(
            "layers must be a list of at least two sizes [n_0, …, n_L] or a non-empty list of "
            f"Dense layers, got {layers!r}"
        )
    for i, layer in enumerate(built[:-1], 1):
        if isinstance(layer.activation, Softmax):
            raise ValueError(f"softmax is for the output layer only, but layer {i} uses it")
    return built


def _initialise(layer: Dense, init: Any, rng: np.random.Generator) -> None:
    """Draw W (and b, for "normal"/"uniform") by the layer's, the network's or the default init."""
    if init is None:
        init = "he" if isinstance(layer.activation, (ReLU, LeakyReLU)) else "xavier"
    draw, draws_biases = get_initializer(init)
    W = np.asarray(draw(rng, layer.W.shape, layer.W.dtype))
    if W.shape != layer.W.shape:
        raise ValueError(f"init {init!r} returned shape {W.shape}, expected {layer.W.shape}")
    layer.W[...] = W
    if draws_biases:
        layer.b[...] = draw(rng, layer.b.shape, layer.b.dtype)
