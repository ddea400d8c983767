"""The ONNX graph of a network, a classifier and a regressor, node by node (see `onnx_export`).

`Builder` collects nodes and constants; `forward` emits one ``Gemm`` (``transB=1``) and the operator
of ψ_l per layer; `classifier` and `regressor` add what the estimators' ``predict`` and
``predict_proba`` do after the network. `mlpnet.onnx_skl2onnx` runs the same functions with a
builder that writes into skl2onnx's container.
"""

from __future__ import annotations

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
from .layers import Dense
from .network import Network

__all__ = ["Builder", "activation", "classifier", "forward", "label_array", "regressor"]

_ELEMENTWISE = {ReLU: "Relu", Tanh: "Tanh", Sigmoid: "Sigmoid", Softsign: "Softsign"}


def onnx_module() -> Any:
    """The onnx package, or an ImportError saying how to install it."""
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
        """A name not used before in this graph."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, array: np.ndarray) -> str:
        """Add `array` as an initializer; return its name."""
        name = self.fresh(hint)
        self.initializers.append(onnx_module().numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(
        self, op: str, inputs: list[str], hint: str, out: str | None = None, **attrs: Any
    ) -> str:
        """Add the node ``op(inputs)`` writing `out` (or a fresh name); return that name."""
        out = out or self.fresh(hint)
        self.nodes.append(
            onnx_module().helper.make_node(op, inputs, [out], name=self.fresh(op), **attrs)
        )
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
        return g.node("Cast", [ge], hint, out, to=tensor_type(g.dtype))
    name = getattr(act, "name", None) or repr(act)
    raise ValueError(
        f"cannot export the user-defined activation {name!r} of layer {layer} to ONNX: only "
        "mlpnet's built-in activations have an ONNX operator"
    )


def tensor_type(dtype: Any) -> int:
    """The ONNX element type of a NumPy dtype."""
    return int(onnx_module().helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


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
        g.node("Cast", [on], "label", label, to=tensor_type(np.int64))
        return
    p = forward(g, net, x)  # binary: one sigmoid output p = P(classes_[1]), shape (n, 1)
    one = g.const("one", np.ones((), dtype=net.dtype))
    g.node("Concat", [g.node("Sub", [one, p], "q"), p], "P", proba, axis=1)
    half = g.const("half", np.full((), 0.5, dtype=net.dtype))
    flat = g.node("Reshape", [p, g.const("n", np.array([-1], dtype=np.int64))], "p")
    positive = g.node("Greater", [flat, half], "positive")
    index = g.node("Cast", [positive], "index", to=tensor_type(np.int64))
    g.node("Gather", [_classes(g, classes), index], "label", label, axis=0)


def trained(g: Builder, net: Network, training: dict, x: str) -> dict[str, tuple[Any, list]]:
    """Emit what `mlpnet predict` computes for a model `mlpnet train` saved; → the outputs.

    `training` is the record saved with the model: with ``standardization`` the graph first
    computes (X − mean) / std; for a classification ``loss`` the outputs are ``label`` (the class
    names where it was trained on text labels, else the class index; one 0/1 column per output
    for the binary cross-entropy) and ``probabilities`` (softmax of the logits for
    ``softmax_cross_entropy``, the network's outputs otherwise), else ``Y``, the outputs. Returns
    {output name: (ONNX element type, shape)}.
    """
    stats = training.get("standardization")
    if stats:
        mean = g.const("mean", np.asarray(stats["mean"], dtype=net.dtype))
        std = g.const("std", np.asarray(stats["std"], dtype=net.dtype))
        x = g.node("Div", [g.node("Sub", [x, mean], "centered"), std], "standardized")
    loss, k = training.get("loss"), net.sizes[-1]
    ftype = tensor_type(net.dtype)
    if loss not in ("softmax_cross_entropy", "cross_entropy", "binary_cross_entropy"):
        forward(g, net, x, "Y")
        return {"Y": (ftype, ["n", k])}
    int64 = tensor_type(np.int64)
    if loss == "binary_cross_entropy" or k == 1:  # ŷ > ½ per output, as `predicted_labels`
        p = forward(g, net, x, "probabilities")
        half = g.const("half", np.full((), 0.5, dtype=net.dtype))
        on = g.node("Cast", [g.node("Greater", [p, half], "on")], "on_int", to=int64)
        if k == 1:
            g.node("Reshape", [on, g.const("n", np.array([-1], dtype=np.int64))], "label", "label")
            return {"label": (int64, ["n"]), "probabilities": (ftype, ["n", 1])}
        g.node("Identity", [on], "label", "label")
        return {"label": (int64, ["n", k]), "probabilities": (ftype, ["n", k])}
    q = forward(g, net, x)
    if loss == "softmax_cross_entropy":
        g.node("Softmax", [q], "P", "probabilities", axis=1)
    else:
        g.node("Identity", [q], "P", "probabilities")
    index = g.node("ArgMax", [q], "argmax", axis=1, keepdims=0)
    names = training.get("class_names")
    if names:
        g.node("Gather", [_classes(g, list(names)), index], "label", "label", axis=0)
        label_type = tensor_type(label_array(list(names)).dtype)
    else:
        g.node("Identity", [index], "label", "label")
        label_type = int64
    return {"label": (label_type, ["n"]), "probabilities": (ftype, ["n", k])}


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
    """The labels as a constant tensor (see `label_array`); return its name."""
    return g.const("classes", label_array(classes))


def label_array(classes: Any) -> np.ndarray:
    """``classes_`` as ONNX holds them: int64 for integer or boolean labels, str for text.

    Raises
    ------
    ValueError
        For labels of another kind (dates, mixed objects, …).
    """
    classes = np.asarray(classes)
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f":
        return classes
    if classes.dtype.kind in "UO" and all(isinstance(c, str) for c in classes.tolist()):
        return np.array(classes.tolist(), dtype=object)
    raise ValueError(
        f"cannot export class labels of dtype {classes.dtype} to ONNX: labels must be integers, "
        "booleans, floats or strings"
    )
