"""Each figure renders to a non-empty PNG, headless, without touching pyplot's global state."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from mlpnet import plots  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = Path(path).read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_training_curves_from_a_history_dict(tmp_path):
    history = {
        "loss": [2.0, 1.0, 0.5],
        "val_loss": [2.1, 1.2, 0.8],
        "step_loss": list(np.linspace(2.3, 0.4, 30)),
        "metrics": {"accuracy": [0.5, 0.8, 0.9]},
        "val_metrics": {"accuracy": [0.45, 0.75, 0.85]},
        "seconds": 1.5,
        "callbacks": ["EarlyStopping"],
    }
    fig = plots.plot_training_curves(history, path=tmp_path / "curves.png")
    assert_png(tmp_path / "curves.png")
    loss_ax, error_ax = fig.axes
    assert loss_ax.get_yscale() == "linear" and loss_ax.get_xlabel() == "epoch"
    labels = [line.get_label() for line in error_ax.get_lines()]
    assert labels == ["training", "validation"]
    np.testing.assert_allclose(error_ax.get_lines()[0].get_ydata(), [0.5, 0.2, 0.1])


def test_training_curves_from_keywords_loss_only(tmp_path):
    fig = plots.plot_training_curves(step_loss=[10.0, 3.0, 0.5, 0.1], path=tmp_path / "c.png")
    assert_png(tmp_path / "c.png")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"


def test_training_curves_with_nothing_to_draw():
    with pytest.raises(ValueError, match="nothing to plot: expected some of 'loss'"):
        plots.plot_training_curves({"seconds": 3.0})


@pytest.mark.parametrize(
    "predict",
    [
        lambda G: sigmoid(3 * (G[:, 0] + G[:, 1])),  # probabilities of class 1
        lambda G: (G.sum(axis=1) > 0).astype(int),  # labels
        lambda G: np.column_stack([-G.sum(axis=1), G.sum(axis=1)]),  # scores per class
    ],
    ids=["probability", "labels", "scores"],
)
def test_decision_boundary(tmp_path, predict):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X.sum(axis=1) > 0).astype(int)

    def hidden(G):
        return sigmoid(G @ np.array([[1.0, -1.0, 0.5], [1.0, 1.0, -2.0]]))

    path = tmp_path / "boundary.png"
    fig = plots.plot_decision_boundary(predict, X, y, hidden_fn=hidden, path=path, resolution=40)
    assert_png(path)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["class 0", "class 1", "hidden unit 1", "hidden unit 2", "hidden unit 3"]


def test_decision_boundary_checks_shapes():
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        plots.plot_decision_boundary(lambda G: G[:, 0], np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        plots.plot_decision_boundary(lambda G: G[:, 0], np.zeros((3, 2)), np.zeros(2))


def test_function_fit_with_unit_contributions(tmp_path):
    x = np.linspace(-1, 1, 20).reshape(-1, 1)

    def units(G):
        return np.tanh(G @ np.array([[2.0, -1.0, 0.5]]))

    path = tmp_path / "fit.png"
    fig = plots.plot_function_fit(x, x**2, lambda G: G**2, units, path=path, resolution=50)
    assert_png(path)
    dashed = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 3


def test_function_fits_grid(tmp_path):
    x = np.linspace(-1, 1, 15)
    fits = {
        "square": (x, x**2, lambda G: G**2),
        "sin": (x, np.sin(np.pi * x), lambda G: np.sin(np.pi * G), lambda G: np.hstack([G, -G])),
        "abs": (x, np.abs(x), np.abs),
    }
    path = tmp_path / "fits.png"
    fig = plots.plot_function_fits(fits, path=path, resolution=30)
    assert_png(path)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["square", "sin", "abs"]
    assert not fig.axes[3].axison
    with pytest.raises(ValueError, match="fits is empty"):
        plots.plot_function_fits({})
    with pytest.raises(ValueError, match=r"fits\['bad'\] must be"):
        plots.plot_function_fits({"bad": (x, x)})


def test_loss_surface_with_paths(tmp_path):
    def loss(w1, w2):
        return (w1 - 1) ** 2 + 10 * (w2 + 0.5) ** 2

    paths = {"gd": np.array([[-2.0, 1.0], [-1.0, 0.2], [0.5, -0.4]]), "adam": [[-2, 1], [0, 0]]}
    path = tmp_path / "surface.png"
    fig = plots.plot_loss_surface(loss, (-3, 3), (-2, 2), paths, path=path, resolution=25)
    assert_png(path)
    assert fig.axes[0].get_xlabel() == "$w_{11}$"


def test_grad_norms(tmp_path):
    norms = np.exp(-np.arange(12)[:, None] * np.array([0.1, 0.5, 1.0]))
    fig = plots.plot_grad_norms(norms, path=tmp_path / "g.png")
    assert_png(tmp_path / "g.png")
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].get_lines()) == 3
    plots.plot_grad_norms([[1.0], [0.5]], path=tmp_path / "h.png", labels=["W1"])
    with pytest.raises(ValueError, match="1 labels for 3 layers"):
        plots.plot_grad_norms(norms, labels=["W1"])


def test_drawing_into_given_axes():
    x = np.linspace(-1, 1, 5)
    fig = plots.plot_function_fit(x, x, lambda G: G, resolution=5)
    again = plots.plot_grad_norms([1.0, 0.1], ax=fig.axes[0])
    assert again is fig and len(fig.axes) == 1


def test_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plots.plot_grad_norms([1.0, 2.0])


def test_imports_no_other_mlpnet_module():
    tree = ast.parse(Path(plots.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith("mlpnet")]


def test_pyplot_is_never_imported(tmp_path):
    code = (
        "import sys\n"
        "from mlpnet import plots\n"
        f"plots.plot_grad_norms([1.0, 0.5], path={str(tmp_path / 'p.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    src = str(Path(plots.__file__).resolve().parents[1])
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src})
    assert_png(tmp_path / "p.png")
