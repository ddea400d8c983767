"""The part of `MLPClassifier` and `MLPRegressor` that does not depend on the kind of target.

Parameters, their constraints (checked in ``fit``, scikit-learn style), the network built from
them, scikit-learn's initialisation, and the training: a stepping solver runs
`mlpnet.training.fit` over the epochs with `SklearnRules` as its callback, L-BFGS runs whole. The
network's θ is the estimator's only copy of the parameters; ``coefs_`` and ``intercepts_`` are
views of it in scikit-learn's layout (``coefs_[i]`` = W_{i+1}ᵀ, shape ``(n_in, n_out)``).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import optim
from ..backends import BACKENDS, to_numpy
from ..errors import TrainingDiverged
from ..layers import Dense
from ..network import Network
from ..training import fit as train
from ._adaptors import Penalized, SklearnRules, StepSize
from ._backend import DevicePenalized, check_backend_options, resolve

__all__ = ["BaseMLP"]

STEPPING_SOLVERS = ("sgd", "adam", "gd", "armijo", "exact_line_search", "random_search")
"""Solvers that take one step per batch, so ``partial_fit`` and the epoch rules apply."""

MINI_BATCH_SOLVERS = ("sgd", "adam")
"""Solvers that use ``batch_size``; the others see all the data every step."""

ACTIVATIONS = {  # scikit-learn's names (and this library's extras) → mlpnet activations
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "softsign": "softsign",
    "leaky_relu": "leaky_relu",
}


class BaseMLP(BaseEstimator):
    """Multilayer perceptron estimator base; see `MLPClassifier` for the parameters."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), list, tuple],
        "solver": [StrOptions({"lbfgs", *STEPPING_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, 10, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],  # μ = 1 never forgets: refused
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dtype": [
            None,
            StrOptions({"float32", "float64"}),
            Options(type, {np.float32, np.float64}),
        ],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "early_stopping_metric": [StrOptions({"score", "loss"})],
        "backend": [StrOptions(set(BACKENDS))],
        "device": "no_validation",  # checked by mlpnet.backends.get_backend in fit
    }

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        dtype: Any = None,
        dropout: float = 0.0,
        early_stopping_metric: str = "score",
        backend: str = "numpy",
        device: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype
        self.dropout = dropout
        self.early_stopping_metric = early_stopping_metric
        self.backend = backend
        self.device = device

    # -- what the subclasses define ------------------------------------------------------------

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        """Return ``(X, y as scored, Y as trained on, n_outputs)``; set up the label encoding."""
        raise NotImplementedError

    def _output_layer(self) -> tuple[Any, Any, str]:
        """``(mlpnet output activation, loss, out_activation_ name)`` for the fitted targets."""
        raise NotImplementedError

    def _predict_from_outputs(self, out: np.ndarray) -> np.ndarray:
        """Predictions (labels or values) from the network's outputs."""
        raise NotImplementedError

    def _score_predictions(self, y: Any, pred: np.ndarray, sample_weight: Any = None) -> float:
        """Accuracy or R², the validation score of early stopping."""
        raise NotImplementedError

    def _class_weighted(self, y: Any, sample_weight: Any, incremental: bool) -> Any:
        """Sample weights with the class weights multiplied in (the classifier's)."""
        return sample_weight

    # -- fitted parameters in scikit-learn's layout ----------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """``coefs_[i]`` = W_{i+1}ᵀ of shape ``(n_in, n_out)``: views into the network's θ.

        On a backend other than NumPy: copies read from the device (assigning writes back).
        """
        return [layer.W.T for layer in self._host_net().layers]

    @coefs_.setter
    def coefs_(self, coefs: list[np.ndarray]) -> None:
        host = self._host_net()
        for layer, coef in zip(host.layers, coefs, strict=True):
            layer.W = np.asarray(coef).T
        self._store_host(host)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """``intercepts_[i]`` = b_{i+1} of shape ``(n_out,)``: views into the network's θ."""
        return [layer.b for layer in self._host_net().layers]

    @intercepts_.setter
    def intercepts_(self, intercepts: list[np.ndarray]) -> None:
        host = self._host_net()
        for layer, b in zip(host.layers, intercepts, strict=True):
            layer.b = b
        self._store_host(host)

    @property
    def network_(self) -> Network:
        """The fitted `mlpnet.Network` (live: training continues on it)."""
        return self._fitted_net()

    def _fitted_net(self) -> Network:
        net = self.__dict__.get("_net")
        if net is None:
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet")
        return net

    def _host_net(self) -> Network:
        """The fitted network itself on NumPy, else a NumPy copy of it."""
        net = self._fitted_net()
        return net if net.backend == "numpy" else net.to("numpy")

    def _store_host(self, host: Network) -> None:
        """Write a `_host_net` copy's θ back to the fitted network (a no-op for NumPy's own)."""
        if host is not self._fitted_net():
            self._net.params = host.params

    # -- pickling: a Network's layers are views into θ, which pickle would turn into copies ------

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Fit the model to the data X and the targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (or a label indicator matrix) for classification, values for regression.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights w_i ≥ 0 of the samples: each batch minimises Σ w_i ℓ_i / Σ w_i plus the L2
            term (α / 2Σw) Σ‖W‖², so integer weights equal repeated rows (to rounding on full
            batches; with dropout only in expectation, since a repeated row draws its own mask).
            The validation split of early stopping is weighted too.

        Returns
        -------
        self
            The fitted estimator.
        """
        self._validate_params()
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    def _check_solver(self) -> bool:
        if self.solver not in STEPPING_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for the stepping solvers {STEPPING_SOLVERS}; "
                f"{self.solver!r} runs whole"
            )
        return True

    def _fit(self, X: Any, y: Any, incremental: bool, sample_weight: Any = None) -> BaseMLP:
        hidden = self._hidden_sizes()
        activations = self._hidden_activations(len(hidden))
        backend = resolve(self)
        check_backend_options(self, backend, sample_weight)
        if self.dropout and self.solver == "lbfgs":
            raise ValueError(
                f"dropout={self.dropout} needs a stepping solver: L-BFGS runs on one fixed "
                "objective, dropout draws a new sub-network every step"
            )
        first_pass = not hasattr(self, "_net") or (not self.warm_start and not incremental)
        X, y, Y, n_outputs = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        sample_weight = self._class_weighted(y, sample_weight, incremental)
        layer_units = [X.shape[1], *hidden, n_outputs]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(layer_units, X.dtype, activations, backend)
        elif self._net.backend != backend.name or self._net.device != backend.device:
            self._net = self._net.to(backend)  # warm start after set_params(backend=…):
            self._optimizer = None  # its state lives on the old backend: the optimizer restarts
        elif list(layer_units) != self._net.sizes or self._net_recipe["activation"] != activations:
            raise ValueError(
                f"cannot continue training a network of sizes {self._net.sizes} and activations "
                f"{self._net_recipe['activation']} with hidden_layer_sizes and activation that "
                f"need {layer_units} and {activations}; fit without warm_start instead"
            )
        for layer in self._net.layers[:-1]:
            layer.dropout = float(self.dropout)  # training-time only: predict never drops
        model = (Penalized if backend.is_numpy else DevicePenalized)(self._net, self.alpha)
        if self.solver == "lbfgs":
            self._fit_lbfgs(model, X, Y, sample_weight)
        else:
            self._fit_steps(model, X, y, Y, incremental, first_pass, sample_weight)
        return self

    def _hidden_activations(self, n_hidden: int) -> list[str]:
        """The mlpnet activation of each hidden layer, from a name or a list of names."""
        names = self.activation
        names = [names] * n_hidden if isinstance(names, str) else list(names)
        if len(names) != n_hidden:
            raise ValueError(
                f"activation has {len(names)} entries but hidden_layer_sizes has {n_hidden} "
                "layers: give one name, or one per hidden layer"
            )
        for name in names:
            if name not in ACTIVATIONS:
                raise ValueError(
                    f"activation {name!r} is not one of {sorted(ACTIVATIONS)} (in {names})"
                )
        return [ACTIVATIONS[name] for name in names]

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _initialize(
        self, layer_units: list[int], dtype: Any, activations: list[str], backend: Any = None
    ) -> None:
        """Build the network and draw θ as scikit-learn does; reset the training records."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        output, self._loss_fn, self.out_activation_ = self._output_layer()
        if self.dtype is not None:
            dtype = np.dtype(self.dtype)
        self._net_recipe = {
            "sizes": list(layer_units),
            "activation": activations,
            "output_activation": output,
            "dtype": np.dtype(dtype).name,
        }
        self._net = net = self._build_network(**self._net_recipe)
        # Glorot & Bengio's uniform initialisation with scikit-learn's factor and draw order, so
        # the same random_state starts from the same weights as sklearn.neural_network. With one
        # activation per hidden layer each uses its own factor, the output layer that of the
        # last hidden layer (scikit-learn's rule when they are all the same).
        last = activations[-1] if activations else ACTIVATIONS.get(str(self.activation), "relu")
        for layer, act in zip(net.layers, [*activations, last], strict=True):
            factor = 2.0 if act == "sigmoid" else 6.0
            bound = np.sqrt(factor / (layer.n_in + layer.n_out))
            coef = self._random_state.uniform(-bound, bound, (layer.n_in, layer.n_out))
            layer.W[...] = coef.T
            layer.b[...] = self._random_state.uniform(-bound, bound, layer.n_out)
        if backend is not None and not backend.is_numpy:  # drawn on the host, then moved
            self._net = net = net.to(backend)
        xp = net._backend.xp  # the best θ of early stopping lives beside θ
        self._best_theta = (
            net.params.copy() if net.backend == "numpy" else xp.asarray(net.params, copy=True)
        )
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        self._reset_scores()

    def _reset_scores(self) -> None:
        if self.early_stopping and self.solver != "lbfgs":
            self.validation_scores_: list[float] | None = []
            self.validation_loss_curve_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_validation_loss_: float | None = np.inf
            self.best_loss_: float | None = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self.best_validation_loss_ = None

    @staticmethod
    def _build_network(
        sizes: list[int], activation: str | list[str], output_activation: Any, dtype: str
    ) -> Network:
        if isinstance(activation, str):  # the recipe of estimators pickled before per-layer lists
            activation = [activation] * (len(sizes) - 2)
        acts = [*activation, output_activation]
        layers = [
            Dense(n_in, n_out, act)
            for n_in, n_out, act in zip(sizes, sizes[1:], acts, strict=False)
        ]
        return Network(layers, init="zeros", dtype=dtype)

    def _seed(self) -> int:
        return int(self._random_state.randint(np.iinfo(np.int32).max))

    def _make_optimizer(self) -> tuple[Any, StepSize | None]:
        solver, lr = self.solver, self.learning_rate_init
        if solver == "sgd":
            step = StepSize(lr)
            nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
            return optim.SGD(step, momentum=self.momentum, nesterov=nesterov), step
        if solver == "gd":
            step = StepSize(lr)
            return optim.GradientDescent(step), step
        if solver == "adam":
            return optim.Adam(lr, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon), None
        # the solvers scikit-learn lacks take mlpnet.optim.DEFAULTS, as fit(optimizer=name) does
        seed = self._seed() if solver == "random_search" else None
        return optim.get_optimizer(solver, seed=seed), None

    def _batch_size(self, n: int) -> int | None:
        if self.solver not in MINI_BATCH_SOLVERS:
            return None
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=6,
            )
        return int(np.clip(self.batch_size, 1, n))

    def _next_optimizer(self, first_pass: bool, incremental: bool) -> None:
        """A fresh optimizer for a new fit; the same state for partial_fit and warm_start.

        A warm-started ``fit`` rebuilds the optimizer from the current parameters (a changed
        ``learning_rate_init`` or ``momentum`` applies) and hands it the old state: Adam's t, m, v
        or SGD's step count and velocity. Each step is then a deterministic function of (θ, state,
        batch), all carried over, and the shuffling and dropout draw from one continued generator
        (`_training_rng`), so two fits of k epochs perform exactly the floating-point operations of
        one fit of 2k in this process: equal to the bit, not merely to rounding.
        """
        old = getattr(self, "_optimizer", None)
        if old is not None and incremental and not first_pass:
            return
        opt, step = self._make_optimizer()
        if old is not None and not first_pass and type(opt) is type(old) and hasattr(old, "state"):
            opt.state = old.state
            if step is not None and self._step_size is not None:
                if self.learning_rate == "invscaling" and self.t_:
                    step.lr = self.learning_rate_init / (self.t_ + 1) ** self.power_t
                elif self.learning_rate == "adaptive":
                    step.lr = self._step_size.lr
        self._optimizer, self._step_size = opt, step

    def _fit_steps(
        self,
        model: Penalized,
        X: Any,
        y: Any,
        Y: Any,
        incremental: bool,
        first_pass: bool,
        sample_weight: Any,
    ) -> None:
        """Epochs of a stepping solver, with scikit-learn's stopping rules."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        self._next_optimizer(first_pass, incremental)
        validation = None
        if self.early_stopping:
            stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
            train_idx, val_idx = train_test_split(
                np.arange(len(X)),
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if len(val_idx) < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or the size "
                    "of your dataset."
                )
            w_val = None if sample_weight is None else sample_weight[val_idx]
            validation = (X[val_idx], y[val_idx], Y[val_idx], w_val)
            X, Y = X[train_idx], Y[train_idx]
            if sample_weight is not None:
                sample_weight = sample_weight[train_idx]
            if self.validation_scores_ is None:  # warm start after a fit without early stopping
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
                self.validation_loss_curve_, self.best_validation_loss_ = [], np.inf
                self.best_loss_ = None
        rules = SklearnRules(
            self,
            model,
            len(X),
            validation,
            self._step_size,
            loss=self._loss_fn,
            validate=self._validate,
            no_improvement_count=self._no_improvement_count,
        )
        self.n_iter_ = 0
        try:
            history = self._train(
                model,
                X,
                Y,
                1 if incremental else self.max_iter,
                rules,
                None,
                sample_weight,
                first_pass,
            )
        finally:
            self._no_improvement_count = rules.no_improvement_count
        if self.early_stopping:
            self._net.params = self._best_theta
        if history.stop_reason == "interrupted":
            warnings.warn("Training interrupted by user.", stacklevel=4)
        elif not incremental and not rules.converged and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _fit_lbfgs(self, model: Penalized, X: Any, Y: Any, sample_weight: Any) -> None:
        """L-BFGS on all the data, SciPy's gradient test at ``tol`` (as scikit-learn)."""
        rules = SklearnRules(self, model, len(X), None, None, stopping=False)
        self.n_iter_ = 0
        history = self._train(
            model, X, Y, self.max_iter, rules, optim.LBFGS(gtol=self.tol), sample_weight, True
        )
        if history.stop_reason == "interrupted":
            warnings.warn("Training interrupted by user.", stacklevel=4)
        elif rules.max_fun_reached or history.stop_reason == "epochs":
            why = (
                f"the number of function evaluations exceeded max_fun={self.max_fun}"
                if rules.max_fun_reached
                else f"the number of iterations reached max_iter={self.max_iter}"
            )
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s): {why}. Increase it "
                "to improve the convergence, or scale the data.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _train(
        self,
        model: Penalized,
        X: Any,
        Y: Any,
        epochs: int,
        rules: SklearnRules,
        opt: Any = None,
        sample_weight: Any = None,
        first_pass: bool = True,
    ) -> Any:
        seed = self._seed()  # drawn every time: the random_state's sequence stays scikit-learn's
        if first_pass or not hasattr(self, "_training_rng"):
            self._training_rng = np.random.default_rng(seed)
        try:
            return train(
                model,
                X,
                Y,
                loss=self._loss_fn,
                optimizer=self._optimizer if opt is None else opt,
                epochs=epochs,
                batch_size=self._batch_size(len(X)),
                shuffle=self.shuffle,
                callbacks=[rules],
                progress=False,
                seed=self._training_rng,  # continued by warm_start and partial_fit
                sample_weight=sample_weight,
                accuracy=False,  # the estimators score on their own (accuracy or R², validation)
            )
        except TrainingDiverged as err:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large "
                f"values and need to be preprocessed. ({err})"
            ) from err

    # -- prediction ----------------------------------------------------------------------------

    def _forward(self, X: Any) -> np.ndarray:
        """Network outputs for checked X (feature count and names as in ``fit``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return to_numpy(self._net.predict(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the multilayer perceptron.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted classes (classifier) or values (regressor).
        """
        return self._predict_from_outputs(self._forward(X))

    def _validate(self, objective: Any, y_val: Any, w_val: Any) -> tuple[float, float]:
        """(score, loss) on the early-stopping split from one forward pass; NaN if not finite.

        The loss is the data term alone, Σ w_i ℓ_i / Σ w_i on the held-out rows (no L2 term, which
        belongs to the training objective), so it is the figure to compare across models.
        """
        J = float(objective.value(self._net.params))
        out = to_numpy(objective.output)
        objective.release()
        if not np.all(np.isfinite(out)):
            return float("nan"), float("nan")
        score = self._score_predictions(y_val, self._predict_from_outputs(out), w_val)
        return float(score), J
