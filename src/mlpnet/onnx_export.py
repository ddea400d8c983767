"""Export a network or a fitted estimator to ONNX: `to_onnx` (extra ``mlpnet[onnx]``).

Each layer f_l(q) = ψ_l(W_l q + b_l) becomes one ``Gemm`` (Z_l = Q_{l-1} W_lᵀ + b_l, ``transB=1``,
so W_l is stored as it is, shape ``(n_l, n_{l-1})``) followed by the operator of ψ_l:

======================  ==================================================================
ψ_l                     ONNX
======================  ==================================================================
identity                nothing
relu, tanh, sigmoid     ``Relu``, ``Tanh``, ``Sigmoid``
softsign                ``Softsign``
leaky_relu (slope a)    ``LeakyRelu(alpha=a)``
softmax                 ``Softmax(axis=1)``
heaviside               ``Cast(GreaterOrEqual(z, 0))``: H(0) = 1, as in the notes
exp (Poisson output)    ``Exp`` (of `MLPRegressor` with ``loss="poisson"``)
======================  ==================================================================

The graph computes in the network's dtype (float32 or float64), and its input ``"X"`` of shape
``(n, n_0)`` has that type. A `Network` gives one output ``"Y"`` = ``net.forward(X)``. A fitted
`MLPClassifier` gives ``"label"`` (``predict``) and ``"probabilities"`` (``predict_proba``): the
labels are a constant ``classes_`` tensor (int64 for integer or boolean classes, string for
strings) indexed by ``ArgMax`` of the logits (multiclass) or by p > ½ (binary, as scikit-learn's
``LabelBinarizer``); a multilabel classifier's ``"label"`` is the int64 indicator matrix. A
fitted `MLPRegressor` gives ``"Y"`` shaped as ``predict``: ``(n,)`` for one output (a ``Reshape``
of the last layer), ``(n, m)`` for m outputs.

With skl2onnx installed, `register_skl2onnx` teaches ``skl2onnx.to_onnx`` the two estimators, so
a scikit-learn ``Pipeline`` holding one of them converts whole; see `mlpnet.onnx_skl2onnx`.
"""

from __future__ import annotations

import contextlib
import sys
from os import PathLike
from pathlib import Path
from typing import Any

from ._atomic import atomic_file
from .network import Network
from .onnx_graph import (
    Builder,
    classifier,
    forward,
    label_array,
    onnx_module,
    regressor,
    tensor_type,
    trained,
)

__all__ = ["IR_VERSION", "OPSET", "register_skl2onnx", "to_onnx", "write_atomic"]

OPSET = 17
"""ONNX operator set of the exported models (every runtime since onnxruntime 1.14 reads it)."""
IR_VERSION = 8
"""ONNX IR version that goes with `OPSET`."""


# ---------------------------------------------------------------- the public function


def to_onnx(
    model: Any, path: str | PathLike[str] | None = None, *, training: dict | None = None
) -> Any:
    """Export a `Network` or a fitted `MLPClassifier` / `MLPRegressor` to an ONNX model.

    Parameters
    ----------
    model : Network, MLPClassifier or MLPRegressor
        What to export (an estimator must be fitted).
    path : str or path-like, optional
        Where to write the model; written atomically (a crash leaves the old file or none).
    training : dict, optional
        For a `Network`: the record ``mlpnet train`` saves with a model (its loss, class names,
        standardization). The graph then computes what ``mlpnet predict`` does: X standardized
        as in training, and for a classifier ``"label"`` and ``"probabilities"``
        (`mlpnet.onnx_graph.trained`); ``mlpnet export`` passes it.

    Returns
    -------
    onnx.ModelProto
        Input ``"X"`` of shape ``(n, n_0)`` in the network's dtype; outputs ``"Y"`` (a network
        or a regressor) or ``"label"`` and ``"probabilities"`` (a classifier). Layer l is one
        ``Gemm`` (``transB=1``) and the operator of ψ_l; see the module for the whole mapping.

    Raises
    ------
    ValueError
        For a user-defined activation (named), an unfitted estimator or another kind of model.
    ImportError
        Without the ``onnx`` package (``pip install "mlpnet[onnx]"``).
    """
    helper = onnx_module().helper
    net, kind = _network_of(model)
    if kind != "network":  # scikit-learn is loaded already: skl2onnx costs little more
        with contextlib.suppress(Exception):  # a side service: a broken skl2onnx must not stop us
            register_skl2onnx()
    g = Builder(net.dtype)
    ftype = tensor_type(net.dtype)
    n = "n"
    if kind == "network" and training:
        outputs = [
            helper.make_tensor_value_info(name, elem, shape)
            for name, (elem, shape) in trained(g, net, training, "X").items()
        ]
    elif kind == "network":
        forward(g, net, "X", "Y")
        outputs = [helper.make_tensor_value_info("Y", ftype, [n, net.sizes[-1]])]
    elif kind == "classifier":
        classifier(g, model, "X", "label", "probabilities")
        multilabel = model.out_activation_ == "logistic" and net.sizes[-1] > 1
        n_proba = net.sizes[-1] if multilabel or net.sizes[-1] > 1 else 2
        outputs = [
            helper.make_tensor_value_info(
                "label",
                tensor_type("int64" if multilabel else label_array(model.classes_).dtype),
                [n, net.sizes[-1]] if multilabel else [n],
            ),
            helper.make_tensor_value_info("probabilities", ftype, [n, n_proba]),
        ]
    else:
        regressor(g, model, "X", "Y")
        shape = [n] if net.sizes[-1] == 1 else [n, net.sizes[-1]]
        outputs = [helper.make_tensor_value_info("Y", ftype, shape)]
    graph = helper.make_graph(
        g.nodes,
        f"mlpnet_{kind}",
        [helper.make_tensor_value_info("X", ftype, [n, net.sizes[0]])],
        outputs,
        g.initializers,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="mlpnet",
        ir_version=IR_VERSION,
    )
    if path is not None:
        write_atomic(path, proto.SerializeToString())
    return proto


def _network_of(model: Any) -> tuple[Network, str]:
    """The network to export and the kind of model: "network", "classifier" or "regressor"."""
    if isinstance(model, Network):
        return model, "network"
    estimators = sys.modules.get("mlpnet.estimators")  # not imported: model is none of them
    kind = None
    if estimators is not None and isinstance(model, estimators.MLPClassifier):
        kind = "classifier"
    elif estimators is not None and isinstance(model, estimators.MLPRegressor):
        kind = "regressor"
    if kind is None:
        raise ValueError(
            "to_onnx exports an mlpnet Network, MLPClassifier or MLPRegressor, got "
            f"{type(model).__name__} (for a scikit-learn Pipeline use skl2onnx.to_onnx, which "
            "knows mlpnet's estimators after mlpnet.onnx_export.register_skl2onnx())"
        )
    try:
        return model.network_, kind
    except AttributeError:
        raise ValueError(
            f"this {type(model).__name__} is not fitted yet: call fit before to_onnx"
        ) from None


def write_atomic(path: str | PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically (`mlpnet._atomic.atomic_file`: the old file or the new)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: directory {path.parent} does not exist")
    with atomic_file(path) as fh:
        fh.write(data)


def register_skl2onnx() -> bool:
    """Teach skl2onnx `MLPClassifier` and `MLPRegressor` (see `mlpnet.onnx_skl2onnx`).

    Call it once before ``skl2onnx.to_onnx`` on a pipeline holding one of them; `to_onnx` calls
    it for an estimator, and importing this module after skl2onnx does too. Returns False,
    having done nothing, where skl2onnx is not installed.
    """
    from .onnx_skl2onnx import register

    return register()


if "skl2onnx" in sys.modules:  # skl2onnx is loaded already: registering costs nothing
    register_skl2onnx()
