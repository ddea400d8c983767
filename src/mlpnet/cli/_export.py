"""``mlpnet export``: a saved network as an ONNX model (needs the ``onnx`` package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command()
@click.argument("model")
@click.option("-o", "--output", help="The .onnx file to write; default MODEL with suffix .onnx.")
def export(model: str, output: str | None) -> None:
    """Write the network in MODEL as an ONNX model that computes what `mlpnet predict` does.

    Input "X" (n, features) in the network's dtype; one Gemm and the activation's operator per
    layer. A model `mlpnet train` saved with --standardize standardizes X first, with the saved
    statistics. A classifier's outputs are "label" (the class names it was trained on, or the
    class index) and "probabilities" (as predict --proba); any other model's output is "Y", the
    network's outputs. Needs the onnx package: pip install "mlpnet[onnx]".
    """
    from ..onnx_export import to_onnx
    from ._evaluate import load_model

    net, training = load_model(model)
    target = Path(output) if output else Path(model).with_suffix(".onnx")
    if target.resolve() == Path(model).resolve():
        raise ValueError(f"{model}: the output would overwrite the model; choose another -o")
    proto = to_onnx(net, target, training=training)

    def shape(output: Any) -> str:
        return ", ".join(d.dim_param or str(d.dim_value) for d in output.type.tensor_type.shape.dim)

    outputs = ", ".join(f"{o.name} ({shape(o)})" for o in proto.graph.output)
    standardized = ", standardized as in training" if training.get("standardization") else ""
    click.echo(
        f"wrote {target}: input X {net.dtype.name} (n, {net.sizes[0]}){standardized} → "
        f"{outputs}; {len(net.layers)} layers"
    )
