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
