"""Options that several commands share."""

from __future__ import annotations

from typing import Any

import click

DATA_HELP = "mnist-10k, digits, xor, or a .csv (header row), .npy or .npz file."

mnist_dir_option = click.option(
    "--mnist-dir", help="Folder with MNIST's t10k files (for mnist-10k; found by default)."
)


def count_option(
    name: str, default: int | None, help_text: str | None = None, least: int = 1
) -> Any:
    """An integer option of at least `least` (click refuses anything less, in one line)."""
    return click.option(
        name,
        type=click.IntRange(min=least),
        default=default,
        show_default=default is not None,
        help=help_text,
    )


def backend_options(command: Any) -> Any:
    """``--backend`` and ``--device``: the model's array library and device (`mlpnet.backends`)."""
    from ..backends import BACKENDS

    command = click.option(
        "--device", help="The backend's device, e.g. cuda or cuda:1 (default: the library's)."
    )(command)
    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default="numpy",
        show_default=True,
        help='Array library to run the model in (not numpy: pip install "mlpnet[gpu]").',
    )(command)
