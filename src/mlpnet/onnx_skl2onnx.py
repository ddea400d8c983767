"""skl2onnx converters for `MLPClassifier` and `MLPRegressor`, so pipelines convert whole.

After `register` (also `mlpnet.onnx_export.register_skl2onnx`, which `mlpnet.to_onnx` runs for an
estimator), ``skl2onnx.to_onnx(Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier())]),
X[:1])`` converts the whole pipeline: skl2onnx emits the scaler, these converters the network, with
the graph of `mlpnet.onnx_export` (one ``Gemm`` and ψ_l per layer). The classifier follows
skl2onnx's conventions for classifiers: outputs ``label`` and ``probabilities``, a ZipMap on the
probabilities unless ``options={id(clf): {"zipmap": False}}`` (or ``"columns"``). The network
computes in its own dtype; an input of the other float type is cast to it, and the probabilities
or the regressor's values are cast back to the input's type, as skl2onnx's own converters type
them; under a ZipMap, which takes float32 only, the probabilities are float32 (so a float64
pipeline converts with the ZipMap too, where skl2onnx's own MLP converter fails the ONNX checker).
The regressor's output has the shape of ``predict``: ``(n,)`` for one target.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .onnx_graph import Builder, classifier, regressor, tensor_type

__all__ = ["register"]


class _ContainerBuilder(Builder):
    """A `Builder` writing into skl2onnx's container, with the scope's unique names."""

    def __init__(self, scope: Any, container: Any, dtype: Any) -> None:
        super().__init__(dtype)
        self.scope, self.container = scope, container

    def fresh(self, hint: str) -> str:
        """A name unused in the whole converted model."""
        return self.scope.get_unique_variable_name(hint)

    def const(self, hint: str, array: np.ndarray) -> str:
        """Add `array` as an initializer; return its name."""
        from onnx import TensorProto

        name, array = self.fresh(hint), np.asarray(array)
        if array.dtype == object:  # string labels: the container wants bytes
            values = [str(v).encode("utf-8") for v in array.ravel()]
            self.container.add_initializer(name, TensorProto.STRING, list(array.shape), values)
        else:
            onnx_type = tensor_type(array.dtype)
            self.container.add_initializer(name, onnx_type, list(array.shape), array.ravel())
        return name

    def node(
        self, op: str, inputs: list[str], hint: str, out: str | None = None, **attrs: Any
    ) -> str:
        """Add the node ``op(inputs)`` writing `out` (or a fresh name); return that name."""
        out = out or self.fresh(hint)
        name = self.scope.get_unique_operator_name(op)
        self.container.add_node(op, inputs, [out], name=name, **attrs)
        return out


def _proto_dtype(variable: Any) -> np.dtype | None:
    """The NumPy float type of an skl2onnx variable; None unless it is a float or double tensor."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(variable.type, DoubleTensorType):
        return np.dtype(np.float64)
    return np.dtype(np.float32) if isinstance(variable.type, FloatTensorType) else None


def _tensor_type(dtype: np.dtype, shape: list[Any]) -> Any:
    """skl2onnx's tensor type of this float dtype and shape."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return (DoubleTensorType if dtype == np.float64 else FloatTensorType)(shape)


def _input_in(g: _ContainerBuilder, operator: Any) -> str:
    """The operator's input, cast to the network's dtype where it has another type."""
    x = operator.inputs[0].full_name
    dtype = _proto_dtype(operator.inputs[0])
    if dtype is not None and dtype == g.dtype:  # (np.dtype(x) == None holds for float64)
        return x
    return g.node("Cast", [x], "X_cast", to=tensor_type(g.dtype))


def _out(g: _ContainerBuilder, variable: Any) -> tuple[str, Any]:
    """Where to write a float output: its own name, or a temporary then cast to its type."""
    dtype = _proto_dtype(variable)
    if dtype == g.dtype:
        return variable.full_name, None
    return g.fresh("net_out"), (variable.full_name, dtype)


def _cast_back(g: _ContainerBuilder, tmp: str, pending: Any) -> None:
    """Cast the temporary of `_out` to the output's own name and type, where one was needed."""
    if pending is not None:
        g.node("Cast", [tmp], "cast", pending[0], to=tensor_type(pending[1]))


def _classes(scope: Any, est: Any) -> np.ndarray:
    """The labels to emit: ``classes_``, or 0, 1, … under skl2onnx's option ``nocl``."""
    classes = np.asarray(est.classes_)
    if scope.get_options(est, {"nocl": False})["nocl"]:
        return np.arange(len(classes))
    if classes.dtype.kind == "f":  # as skl2onnx's ZipMap: integral float labels become int64
        if not np.array_equal(classes, np.round(classes)):
            raise ValueError(
                f"skl2onnx takes integer or string class labels, got {classes.tolist()}"
            )
        return classes.astype(np.int64)
    return classes


def _shape_classifier(operator: Any) -> None:
    """Types of ``label`` and ``probabilities`` (skl2onnx's shape calculator)."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    est = operator.raw_operator
    n, k = operator.inputs[0].get_first_dimension(), est.network_.sizes[-1]
    multilabel = est.out_activation_ == "logistic" and k > 1
    kind = _classes(operator.scope_inst, est).dtype.kind
    label = Int64TensorType if multilabel or kind in "biu" else StringTensorType
    operator.outputs[0].type = label([n, k] if multilabel else [n])
    dtype = _proto_dtype(operator.inputs[0]) or np.dtype(np.float32)  # as skl2onnx guesses
    if operator.scope_inst.get_options(est, {"zipmap": True})["zipmap"] is not False:
        dtype = np.dtype(np.float32)  # ONNX's ZipMap takes float32 only
    operator.outputs[1].type = _tensor_type(dtype, [n, k if k > 1 else 2])


def _convert_classifier(scope: Any, operator: Any, container: Any) -> None:
    """Emit the classifier's graph (see `mlpnet.onnx_graph.classifier`)."""
    est = operator.raw_operator
    g = _ContainerBuilder(scope, container, est.network_.dtype)
    x = _input_in(g, operator)
    proba, pending = _out(g, operator.outputs[1])
    classifier(g, est, x, operator.outputs[0].full_name, proba, _classes(scope, est))
    _cast_back(g, proba, pending)


def _shape_regressor(operator: Any) -> None:
    """Type of the regressor's output: ``(n,)`` for one target, ``(n, m)`` for m."""
    n, m = operator.inputs[0].get_first_dimension(), operator.raw_operator.network_.sizes[-1]
    dtype = _proto_dtype(operator.inputs[0]) or np.dtype(np.float32)  # as skl2onnx guesses
    operator.outputs[0].type = _tensor_type(dtype, [n] if m == 1 else [n, m])


def _convert_regressor(scope: Any, operator: Any, container: Any) -> None:
    """Emit the regressor's graph (see `mlpnet.onnx_graph.regressor`)."""
    est = operator.raw_operator
    g = _ContainerBuilder(scope, container, est.network_.dtype)
    x = _input_in(g, operator)
    y, pending = _out(g, operator.outputs[0])
    regressor(g, est, x, y)
    _cast_back(g, y, pending)


def register() -> bool:
    """Register both converters with skl2onnx; False (and nothing done) without skl2onnx."""
    try:
        from skl2onnx import update_registered_converter
    except ImportError:
        return False
    from .estimators import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier,
        "MlpnetMLPClassifier",
        _shape_classifier,
        _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [False, True]},
    )
    update_registered_converter(
        MLPRegressor, "MlpnetMLPRegressor", _shape_regressor, _convert_regressor
    )
    return True
