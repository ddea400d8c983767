"""What the example scripts share: their ``--out``/``--quick`` options and how figures are saved.

Each script in this folder reproduces one experiment of the lecture notes, prints its numbers and
writes its figure (PNG) to ``examples/output/`` or the folder given by ``--out``. ``--quick`` runs
smaller settings (used by the tests); the numbers quoted in docs/experiments.md are from full runs.
Ctrl-C stops the whole script with exit status 130 (`stop_if_interrupted`), never printing the
result of a model whose training it cut short.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "output"


def arguments(description: str, mnist: bool = False) -> argparse.Namespace:
    """Parse ``--out DIR`` and ``--quick`` (and ``--data-dir`` for MNIST); create the folder."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out", type=Path, default=OUTPUT, help=f"figure folder (default {OUTPUT})"
    )
    parser.add_argument("--quick", action="store_true", help="smaller settings, for a fast check")
    if mnist:
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="folder with MNIST's t10k-* files (default: mlpnet.datasets.find_mnist())",
        )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.excepthook = _interrupted_quietly
    return args


def stop_if_interrupted(history: Any, what: str) -> None:
    """Exit with status 130 if Ctrl-C cut `what`'s training short (``history.interrupted``).

    ``fit`` returns normally on Ctrl-C; without this check a script would print the cut-short
    model's figures as if it were done and go on to train the next one.
    """
    if history.interrupted:
        print(
            f"interrupted while training {what} (after {history.epochs} epochs): stopping; "
            "the results above are complete, none are reported for it",
            file=sys.stderr,
        )
        sys.exit(130)


def _interrupted_quietly(kind: type, value: BaseException, tb: Any) -> None:
    """Ctrl-C outside ``fit``: one line and exit status 130, no traceback."""
    if issubclass(kind, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        raise SystemExit(130)
    sys.__excepthook__(kind, value, tb)


def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.4, 4.8)) -> Any:
    """A matplotlib Figure on the Agg canvas (no window) and its 2-D grid of axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def save(fig: Any, out: Path, name: str) -> Path:
    """Write `fig` as ``out/name`` and say so."""
    path = out / name
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
    return path


def hidden_layer(net: Any, layer: int = 1) -> Any:
    """The function X ↦ Q_l, the outputs of hidden layer `layer` (for the dashed unit lines)."""
    return lambda X: net.forward_cache(X).Q[layer]
