"""``mlpnet download mnist``: fetch MNIST's files into the cache or a folder, checksums checked."""

from __future__ import annotations

import click

from ..datasets import download as fetch


@click.command()
@click.argument("dataset", type=click.Choice(["mnist"], case_sensitive=False))
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the files [default: the cache, $XDG_CACHE_HOME/mlpnet/mnist or "
    "~/.cache/mlpnet/mnist, where mnist-10k and load_mnist() find them].",
)
@click.option(
    "--split",
    type=click.Choice(["train", "test", "all"]),
    default="all",
    show_default=True,
    help="The 60,000 training images, the 10,000 test images, or both.",
)
def download(dataset: str, directory: str | None, split: str) -> None:
    """Download DATASET (mnist: LeCun, Cortes and Burges's handwritten digits).

    Fetches the split's gzip-compressed IDX files that the folder lacks from public mirrors (or
    from the base URL in $MLPNET_MNIST_URL), checks each against its published size and SHA-256
    sum, and writes it atomically; a file that no mirror delivers intact is an error and leaves
    nothing behind.
    """
    folder = fetch.download_mnist(directory, split, log=lambda line: click.echo(line, err=True))
    parts = list(fetch.FILES) if split == "all" else [split]
    names = [name for part in parts for name in fetch.FILES[part]]
    click.echo(f"MNIST {' and '.join(parts)} files in {folder}: {', '.join(names)}")
    if directory is None:
        click.echo("load_mnist(), mnist_10k() and --data mnist-10k find them there")
