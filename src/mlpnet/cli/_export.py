"""``mlpnet export``: a saved network as an ONNX model (needs the ``onnx`` package)."""

from __future__ import annotations

from pathlib import Path

import click

import mlpnet


@click.command()
@click.argument("model")
@click.option("-o", "--output", help="The .onnx file to write; default MODEL with suffix .onnx.")
def export(model: str, output: str | None) -> None:
    """Write the network in MODEL as an ONNX model (input "X", output "Y" = the network's outputs).

    One Gemm and the activation's operator per layer, in the network's dtype; any ONNX runtime
    then computes the network's outputs as mlpnet does (logits for a model trained with
    softmax_cross_entropy, no labels). Needs the onnx package: pip install "mlpnet[onnx]".
    """
    from ..onnx_export import to_onnx

    net = mlpnet.load(model)
    target = Path(output) if output else Path(model).with_suffix(".onnx")
    if target.resolve() == Path(model).resolve():
        raise ValueError(f"{model}: the output would overwrite the model; choose another -o")
    to_onnx(net, target)
    click.echo(
        f"wrote {target}: input X {net.dtype.name} (n, {net.sizes[0]}) → output Y (n, "
        f"{net.sizes[-1]}), {len(net.layers)} layers"
    )
