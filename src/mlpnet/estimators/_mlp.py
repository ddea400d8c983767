"""`MLPClassifier` and `MLPRegressor`: the targets, output layers and losses of each."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d, validate_data

from ..activations import softmax
from ..losses import BinaryCrossEntropy, SoftmaxCrossEntropy
from ._adaptors import (
    Exp,
    HalfPoissonDeviance,
)
from ._base import BaseMLP

__all__ = ["MLPClassifier", "MLPRegressor"]

_NOT_PARAMS = {"self", "__class__", "loss", "class_weight"}  # not BaseMLP's: set by the subclass

_PARAMETERS = """\
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Units of each hidden layer: the network has sizes ``[n_features, *hidden, n_outputs]``.
    activation : str or list of str, default="relu"
        ψ of the hidden layers, from {"identity", "logistic", "tanh", "relu", "softsign",
        "leaky_relu"} (the last two are this library's additions); a list gives one per hidden
        layer, e.g. ``["relu", "tanh"]`` (read back from ``network_.layers[i].activation.name``).
    solver : {"adam", "sgd", "lbfgs", "gd", "armijo", "exact_line_search", "random_search"}, \
default="adam"
        scikit-learn's solvers, plus this library's full-batch methods: fixed-step gradient
        descent (``learning_rate_init`` is η), Armijo backtracking, exact line search and the
        derivative-free random search (see `mlpnet.optim`). Only "sgd" and "adam" use
        ``batch_size``; the others take one step on all the data per iteration.
    alpha : float, default=0.0001
        Strength of the L2 penalty (α / 2n) Σ_l ‖W_l‖² added to the mean loss of each batch of n
        samples (weights only, not biases), as scikit-learn.
    batch_size : int or "auto", default="auto"
        Mini-batch size of "sgd" and "adam"; "auto" is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of "sgd" and "gd": constant, γ_0 / (t + 1)^power_t with t the samples
        seen (updated each epoch), or divided by 5 whenever ``n_iter_no_change`` epochs bring no
        improvement of ``tol`` (training stops once it is below 1e-6).
    learning_rate_init : float, default=0.001
        γ_0 of "sgd", "gd" and "adam".
    power_t : float, default=0.5
        Exponent of "invscaling".
    max_iter : int, default=200
        Epochs of the stepping solvers; iterations of "lbfgs".
    shuffle : bool, default=True
        Reshuffle the samples every epoch ("sgd" and "adam").
    random_state : int, RandomState instance or None, default=None
        Draws the initial weights (Glorot uniform as scikit-learn, the same draws), the
        early-stopping split, the shuffling and random-search proposals.
    tol : float, default=1e-4
        Improvement of the loss (or validation score) that counts; for "lbfgs" SciPy's
        gradient tolerance.
    verbose : bool, default=False
        Print the loss of every epoch.
    warm_start : bool, default=False
        Continue from the fitted weights in ``fit`` instead of starting afresh.
    momentum : float, default=0.9
        μ in [0, 1) of "sgd" (PyTorch's convention, which equals scikit-learn's for a constant
        step).
    nesterovs_momentum : bool, default=True
        Nesterov momentum for "sgd" (when ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for binary targets) and stop when
        its score (accuracy or R²; or its loss, see ``early_stopping_metric``) has not improved by
        ``tol`` for ``n_iter_no_change`` epochs; the weights of the best epoch are kept. Records
        ``validation_scores_`` and ``validation_loss_curve_``. Not for "lbfgs" (ignored) or
        ``partial_fit``.
    early_stopping_metric : {"score", "loss"}, default="score"
        What early stopping watches on the held-out split: the score (higher is better,
        scikit-learn's behaviour) or the mean loss (lower is better, without the L2 term).
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Adam's ε.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` after which training stops.
    max_fun : int, default=15000
        Most loss evaluations of "lbfgs" (checked after each iteration).
    dtype : {None, "float32", "float64"}, default=None
        Floating type of the network; None follows X (float32 stays float32, anything else
        becomes float64).
    dropout : float, default=0.0
        Rate p, 0 ≤ p < 1, of inverted dropout on every hidden layer's output while training:
        each step keeps a unit with probability 1 − p and scales it by 1/(1 − p); ``predict`` never
        drops. The masks are drawn from ``random_state``. Not with "lbfgs" (ValueError).
    backend : {"numpy", "torch", "cupy", "array_api_strict"}, default="numpy"
        Array library the network is trained and evaluated in (`mlpnet.backends`; not numpy:
        ``pip install "mlpnet[gpu]"``). θ is drawn on the host as always and moved; inputs stay
        NumPy (moved once per call) and outputs, ``coefs_`` and ``intercepts_`` come back as
        NumPy. ``sample_weight``, ``class_weight``, ``dropout`` and ``loss="poisson"`` need
        "numpy" (ValueError otherwise); "lbfgs" runs SciPy's L-BFGS on the host, θ and ∇J
        crossing per evaluation.
    device : str, int or None, default=None
        The backend's device, e.g. "cuda" or "cuda:1" for torch; None is the library's default.
"""

_ATTRIBUTES = """\
    loss_ : float
        Loss (with the L2 term) of the last epoch.
    best_loss_ : float or None
        Smallest epoch loss; None with early stopping (then see ``best_validation_score_``).
    loss_curve_ : list of float
        The loss of every epoch (mean over its batches, weighted by their sizes or, with
        sample weights, by their total weight).
    validation_scores_ : list of float or None
        Score on the held-out split after every epoch; None without early stopping.
    validation_loss_curve_ : list of float or None
        Mean loss (weighted by ``sample_weight``, without the L2 term) on the held-out split after
        every epoch; None without early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``; None without early stopping.
    best_validation_loss_ : float or None
        Smallest of ``validation_loss_curve_``; None without early stopping.
    t_ : int
        Samples seen by a stepping solver over all epochs.
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape ``(n_in, n_out)``: the transpose of the network's W_{i+1}, as a
        view into θ (writing into it changes the model; on another backend a NumPy copy).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` = b_{i+1}, shape ``(n_out,)``, also views.
    network_ : mlpnet.Network
        The fitted network itself.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Names of the features seen in ``fit``, when X had string column names.
    n_iter_ : int
        Epochs (or L-BFGS iterations) run by the last call to ``fit`` / ``partial_fit``.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of network outputs.
    out_activation_ : str
        Output function: "logistic", "softmax" or "identity".
"""


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier trained by backpropagation, scikit-learn style.

    Binary targets use one sigmoid output and the binary cross-entropy, multiclass targets
    K identity outputs (logits) and the softmax cross-entropy, multilabel targets (an indicator
    matrix) K sigmoid outputs and the binary cross-entropy summed over them, as
    ``sklearn.neural_network.MLPClassifier``.

    Parameters
    ----------
    <parameters>
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying ``sample_weight`` as in ``LogisticRegression``: a dict
        {label: weight} (labels left out weigh 1), or "balanced",
        n_samples / (n_classes · bincount(y)) computed with the sample weights (not with
        ``partial_fit``, whose batches see only part of y). Single-label targets only.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        The class labels.
    <attributes>

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlpnet.estimators import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((20,), solver="lbfgs", max_iter=300, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
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
        class_weight: Any = None,
    ) -> None:
        super().__init__(**{k: v for k, v in locals().items() if k not in _NOT_PARAMS})
        self.class_weight = class_weight

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(
            self, X, y, multi_output=True, dtype=(np.float64, np.float32), reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        Y = self._label_binarizer.transform(y)
        if self._multiclass:
            return X, y, Y.argmax(axis=1), Y.shape[1]  # integer labels for softmax CE
        return X, y, Y.astype(X.dtype), Y.shape[1]

    @property
    def _multiclass(self) -> bool:
        return self._label_binarizer.y_type_ == "multiclass"

    def _output_layer(self) -> tuple[str, Any, str]:
        if self._multiclass:
            return "identity", SoftmaxCrossEntropy(), "softmax"
        return "sigmoid", BinaryCrossEntropy(), "logistic"

    def _predict_from_outputs(self, out: np.ndarray) -> np.ndarray:
        if self._multiclass:
            return self.classes_[out.argmax(axis=1)]
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def _score_predictions(self, y: Any, pred: np.ndarray, sample_weight: Any = None) -> float:
        return accuracy_score(y, pred, sample_weight=sample_weight)

    def _class_weighted(self, y: Any, sample_weight: Any, incremental: bool) -> Any:
        """sample_weight × the weight of each sample's class (LogisticRegression's rule)."""
        if self.class_weight is None:
            return sample_weight
        if np.ndim(y) != 1:
            raise ValueError("class_weight is for single-label targets, not a label matrix")
        if self.class_weight == "balanced" and incremental:
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit (one batch does not see "
                "the class frequencies): compute them with "
                "sklearn.utils.class_weight.compute_class_weight and pass a dict"
            )
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
        )
        per_sample = weights[np.searchsorted(self.classes_, y)].astype(np.float64)
        return per_sample if sample_weight is None else sample_weight * per_sample

    @available_if(lambda est: est._check_solver())
    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> MLPClassifier:
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The labels.
        classes : array of shape (n_classes,), default=None
            All the classes across the calls; required on the first call (not for multilabel
            targets), y need not contain all of them.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, as in `fit`.

        Returns
        -------
        self
            The updated estimator.
        """
        if not hasattr(self, "_net"):
            self._validate_params()
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_`` (rows sum to 1), or for multilabel
            targets the probability of each label.
        """
        out = self._forward(X)
        if self._multiclass:
            return softmax(out)
        if self.n_outputs_ == 1:
            p = out.ravel()
            return np.stack([1.0 - p, p], axis=1)
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Return the logarithm of `predict_proba`."""
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multilayer perceptron regressor trained by backpropagation, scikit-learn style.

    ``loss="squared_error"``: identity outputs and ½ ‖ŷ − y‖² per sample (the library's
    ``half_squared_error``); ``loss="poisson"``: exponential outputs ŷ = e^z and the half Poisson
    deviance Σ_k (y_k ln(y_k / ŷ_k) − y_k + ŷ_k), for counts y ≥ 0. Both plus the L2 term, as
    ``sklearn.neural_network.MLPRegressor``.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        The loss, as above (scikit-learn's first parameter).
    <parameters>

    Attributes
    ----------
    <attributes>

    Notes
    -----
    With several outputs scikit-learn reports ``loss_`` as ½ *mean* over the outputs but trains
    on the gradient of ½ *sum* over them (δ_L = ŷ − y). This estimator trains on the same
    gradient and reports the loss that belongs to it, the sum, so its ``loss_curve_`` is larger
    than scikit-learn's by the data term times (k − 1)/k for k outputs; the steps are the same.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpnet.estimators import MLPRegressor
    >>> X = np.linspace(-1, 1, 200)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs",
    ...                    random_state=0)
    >>> reg.fit(X, np.sin(3 * X).ravel()).score(X, np.sin(3 * X).ravel()) > 0.99
    True
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss: str = "squared_error",
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
        super().__init__(**{k: v for k, v in locals().items() if k not in _NOT_PARAMS})
        self.loss = loss

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        Y = y.reshape(len(y), -1)
        return X, y, Y, Y.shape[1]

    def _output_layer(self) -> tuple[Any, Any, str]:
        if self.loss == "poisson":
            return Exp(), HalfPoissonDeviance(), "exp"
        return "identity", "half_squared_error", "identity"

    def _predict_from_outputs(self, out: np.ndarray) -> np.ndarray:
        return out.ravel() if out.shape[1] == 1 else out

    def _score_predictions(self, y: Any, pred: np.ndarray, sample_weight: Any = None) -> float:
        return r2_score(y, pred, sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, as in `fit`.

        Returns
        -------
        self
            The updated estimator.
        """
        if not hasattr(self, "_net"):
            self._validate_params()
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


for _cls in (MLPClassifier, MLPRegressor):
    _cls.__doc__ = _cls.__doc__.replace("    <parameters>\n", _PARAMETERS).replace(
        "    <attributes>\n", _ATTRIBUTES
    )
