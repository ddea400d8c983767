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
import os
import sys
import tempfile
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .activations import (
    Heaviside,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softsign,
    Tanh,
)
from .io import _default_mode
from .layers import Dense
from .network import Network

__all__ = ["OPSET", "Builder", "register_skl2onnx", "to_onnx"]

OPSET = 17
"""ONNX operator set of the exported models (every runtime since onnxruntime 1.14 reads it)."""
IR_VERSION = 8
"""ONNX IR version that goes with `OPSET`."""

_ELEMENTWISE = {ReLU: "Relu", Tanh: "Tanh", Sigmoid: "Sigmoid", Softsign: "Softsign"}


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as err:
        raise ImportError(
            'exporting to ONNX needs the onnx package: pip install "mlpnet[onnx]"'
        ) from err
    return onnx


class Builder:
    """Collects the nodes and constants of a graph; `skl2onnx` support swaps in its own.

    ``const(hint, array)`` and ``node(op, inputs, hint, out=None, **attrs)`` return the name of
    the tensor they define; `out` fixes that name (a graph output), else a fresh one is made.
    """

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, array: np.ndarray) -> str:
        name = self.fresh(hint)
        self.initializers.append(_onnx().numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(
        self, op: str, inputs: list[str], hint: str, out: str | None = None, **attrs: Any
    ) -> str:
        out = out or self.fresh(hint)
        self.nodes.append(_onnx().helper.make_node(op, inputs, [out], name=self.fresh(op), **attrs))
        return out


# ---------------------------------------------------------------- the graph of each model


def forward(
    g: Builder, net: Network, x: str, out: str | None = None, output_op: str | None = None
) -> str:
    """Emit Q_L = f(X) for the tensor `x`: one Gemm and ψ_l per layer; return Q_L's name.

    `output_op` names the ONNX operator of ψ_L where the network's own activation object cannot
    say it (the Poisson regressor's ``exp``, which mlpnet keeps as a private activation).
    """
    for l, layer in enumerate(net.layers, 1):
        if not isinstance(layer, Dense):
            raise ValueError(f"layer {l} ({layer!r}) is not a Dense layer: ONNX export needs Dense")
        last = l == len(net.layers)
        identity = isinstance(layer.activation, Identity)
        W, b = g.const(f"W{l}", layer.W.copy()), g.const(f"b{l}", layer.b.copy())
        z = g.node("Gemm", [x, W, b], f"Z{l}", out if last and identity else None, transB=1)
        if last and output_op is not None:
            return g.node(output_op, [z], f"Q{l}", out)
        x = activation(g, layer.activation, z, f"Q{l}", out if last else None, l)
    return x


def activation(g: Builder, act: Any, z: str, hint: str, out: str | None, layer: int = 0) -> str:
    """Emit ψ(z) (see the module's table); a user-defined ψ raises `ValueError` naming it."""
    if isinstance(act, Identity):
        return z if out is None or out == z else g.node("Identity", [z], hint, out)
    if isinstance(act, Softsign) and g.dtype != np.float32:
        # onnxruntime has Softsign for float32 only: z / (1 + |z|) from Abs, Add and Div
        one = g.const("one", np.ones((), dtype=g.dtype))
        denominator = g.node("Add", [g.node("Abs", [z], hint + "_abs"), one], hint + "_den")
        return g.node("Div", [z, denominator], hint, out)
    op = _ELEMENTWISE.get(type(act))
    if op is not None:
        return g.node(op, [z], hint, out)
    if isinstance(act, LeakyReLU):
        return g.node("LeakyRelu", [z], hint, out, alpha=act.slope)
    if isinstance(act, Softmax):
        return g.node("Softmax", [z], hint, out, axis=1)
    if isinstance(act, Heaviside):
        zero = g.const("zero", np.zeros((), dtype=g.dtype))
        ge = g.node("GreaterOrEqual", [z, zero], hint + "_ge")
        return g.node("Cast", [ge], hint, out, to=_tensor_type(g.dtype))
    name = getattr(act, "name", None) or repr(act)
    raise ValueError(
        f"cannot export the user-defined activation {name!r} of layer {layer} to ONNX: only "
        "mlpnet's built-in activations have an ONNX operator"
    )


def _tensor_type(dtype: np.dtype) -> int:
    return int(_onnx().helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def classifier(g: Builder, est: Any, x: str, label: str, proba: str, classes: Any = None) -> None:
    """Emit ``label`` and ``probabilities`` of a fitted `MLPClassifier` (see the module).

    `classes` replaces ``est.classes_`` as the labels (skl2onnx's option ``nocl``).
    """
    net = est.network_
    classes = est.classes_ if classes is None else classes
    if est.out_activation_ == "softmax":  # K logits: softmax for p, argmax of the logits for y
        logits = forward(g, net, x)
        g.node("Softmax", [logits], "P", proba, axis=1)
        index = g.node("ArgMax", [logits], "argmax", axis=1, keepdims=0)
        g.node("Gather", [_classes(g, classes), index], "label", label, axis=0)
        return
    if net.sizes[-1] > 1:  # multilabel: K sigmoids, each label on where p_k > ½
        p = forward(g, net, x, proba)
        half = g.const("half", np.full((), 0.5, dtype=net.dtype))
        on = g.node("Greater", [p, half], "on")
        g.node("Cast", [on], "label", label, to=_tensor_type(np.int64))
        return
    p = forward(g, net, x)  # binary: one sigmoid output p = P(classes_[1]), shape (n, 1)
    one = g.const("one", np.ones((), dtype=net.dtype))
    g.node("Concat", [g.node("Sub", [one, p], "q"), p], "P", proba, axis=1)
    half = g.const("half", np.full((), 0.5, dtype=net.dtype))
    flat = g.node("Reshape", [p, g.const("n", np.array([-1], dtype=np.int64))], "p")
    index = g.node("Cast", [g.node("Greater", [flat, half], "positive")], "index", to=7)
    g.node("Gather", [_classes(g, classes), index], "label", label, axis=0)


def regressor(g: Builder, est: Any, x: str, y: str) -> None:
    """Emit ``Y`` of a fitted `MLPRegressor`, of shape ``(n,)`` for one output as ``predict``."""
    net = est.network_
    op = "Exp" if est.out_activation_ == "exp" else None  # ŷ = e^z of the Poisson loss
    if net.sizes[-1] > 1:
        forward(g, net, x, y, op)
        return
    q = forward(g, net, x, output_op=op)
    g.node("Reshape", [q, g.const("n", np.array([-1], dtype=np.int64))], "Y", y)


def _classes(g: Builder, classes: Any) -> str:
    """``classes_`` as a constant: int64 for integer/boolean labels, strings for text labels."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        return g.const("classes", classes.astype(np.int64))
    if classes.dtype.kind == "f":
        return g.const("classes", classes)
    if classes.dtype.kind in "UO" and all(isinstance(c, str) for c in classes.tolist()):
        return g.const("classes", np.array(classes.tolist(), dtype=object))
    raise ValueError(
        f"cannot export class labels of dtype {classes.dtype} to ONNX: labels must be integers, "
        "booleans, floats or strings"
    )


def label_dtype(classes: Any) -> np.dtype:
    """The dtype of the ``label`` output for these ``classes_`` (see `_classes`)."""
    kind = np.asarray(classes).dtype.kind
    return (
        np.dtype(np.int64)
        if kind in "biu"
        else np.asarray(classes).dtype
        if kind == "f"
        else np.dtype(object)
    )


# ---------------------------------------------------------------- the public function


def to_onnx(model: Any, path: str | PathLike[str] | None = None) -> Any:
    """Export a `Network` or a fitted `MLPClassifier` / `MLPRegressor` to an ONNX model.

    Parameters
    ----------
    model : Network, MLPClassifier or MLPRegressor
        What to export (an estimator must be fitted).
    path : str or path-like, optional
        Where to write the model; written atomically (a crash leaves the old file or none).

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
    helper = _onnx().helper
    net, kind = _network_of(model)
    if kind != "network":
        register_skl2onnx()  # scikit-learn is loaded already: skl2onnx costs little more
    g = Builder(net.dtype)
    ftype = _tensor_type(net.dtype)
    n = "n"
    if kind == "network":
        forward(g, net, "X", "Y")
        outputs = [helper.make_tensor_value_info("Y", ftype, [n, net.sizes[-1]])]
    elif kind == "classifier":
        classifier(g, model, "X", "label", "probabilities")
        multilabel = model.out_activation_ == "logistic" and net.sizes[-1] > 1
        n_proba = net.sizes[-1] if multilabel or net.sizes[-1] > 1 else 2
        outputs = [
            helper.make_tensor_value_info(
                "label",
                _tensor_type(label_dtype(model.classes_)) if not multilabel else 7,
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
    kinds = {"MLPClassifier": "classifier", "MLPRegressor": "regressor"}
    kind = (
        kinds.get(type(model).__name__)
        if hasattr(model, "network_") or hasattr(type(model), "network_")
        else None
    )
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
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: directory {path.parent} does not exist")
    fh = tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    try:
        with fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(fh.name, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        os.replace(fh.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(fh.name)
        raise


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
