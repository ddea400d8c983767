import json
import math
import sys

import numpy as np
import pytest

from mlpnet.history import EpochLogs, History


def filled_history():
    history = History()
    for epoch in range(3):
        history.step_loss.extend([1.0 / (epoch + 1), 0.9 / (epoch + 1)])
        history.lr.extend([0.1 / (2 * epoch + 1), 0.1 / (2 * epoch + 2)])
        history.append(
            EpochLogs(
                epoch=epoch,
                loss=1.0 / (epoch + 1),
                grad_norm=2.0**-epoch,
                seconds=0.5 * (epoch + 1),
                layer_grad_norms=(0.5**epoch, 1.5**-epoch),
                val_loss=1.2 / (epoch + 1),
                metrics={"accuracy": 0.5 + 0.1 * epoch},
                val_metrics={"accuracy": 0.45 + 0.1 * epoch},
            )
        )
    history.stop_reason = "epochs"
    return history


def test_append_records_every_figure():
    history = filled_history()
    assert history.epochs == 3
    assert history.loss == [1.0, 0.5, 1 / 3]
    assert history.val_loss == pytest.approx([1.2, 0.6, 0.4])
    assert history.metrics == {"accuracy": [0.5, 0.6, 0.7]}
    assert history.val_metrics["accuracy"] == pytest.approx([0.45, 0.55, 0.65])
    assert history.grad_norm == [1.0, 0.5, 0.25]
    assert history.layer_grad_norm[1] == [0.5, 1 / 1.5]
    assert history.seconds == [0.5, 1.0, 1.5]


def test_as_dict_is_json_ready_and_a_copy():
    history = filled_history()
    data = history.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {"loss", "step_loss", "val_loss", "metrics", "val_metrics", "grad_norm"}
    assert data["stop_reason"] == "epochs"
    data["loss"].append(99.0)
    data["metrics"]["accuracy"].append(99.0)
    assert history.loss[-1] != 99.0 and history.metrics["accuracy"][-1] != 99.0


def test_epoch_logs_get_by_name():
    logs = EpochLogs(0, 0.3, val_loss=0.4, metrics={"accuracy": 0.9}, val_metrics={"accuracy": 0.8})
    assert (logs.get("loss"), logs.get("val_loss"), logs.get("grad_norm")) == (
        0.3,
        0.4,
        logs.grad_norm,
    )
    assert logs.get("accuracy") == 0.9 and logs.get("val_accuracy") == 0.8
    assert logs.get("f1") is None and EpochLogs(0, 1.0).get("val_loss") is None
    assert math.isnan(EpochLogs(0, 1.0).grad_norm)


def test_repr_is_short():
    assert (
        repr(filled_history())
        == "History(epochs=3, loss=0.3333, val_loss=0.4, stop_reason='epochs')"
    )
    assert repr(History()) == "History(epochs=0, stop_reason=None)"


def test_plot_saves_a_file_with_all_panels(tmp_path):
    path = tmp_path / "curves.png"
    fig = filled_history().plot(path)
    assert path.stat().st_size > 1000
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy", "gradient norm", "step size γ_k"]
    assert [line.get_label() for line in fig.axes[2].lines] == ["‖∇J‖", "layer 1", "layer 2"]


def test_plot_leaves_out_empty_panels(tmp_path):
    history = History()
    history.append(EpochLogs(0, 1.0))  # no metrics, NaN gradient norm (random search), no lr
    history.append(EpochLogs(1, 0.5))
    fig = history.plot(tmp_path / "h.svg")
    assert [ax.get_title() for ax in fig.axes] == ["loss"]
    assert (tmp_path / "h.svg").exists()


def test_plot_without_path_uses_pyplot():
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = filled_history().plot()
    assert plt.fignum_exists(fig.number)
    plt.close(fig)


def test_plot_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        filled_history().plot("x.png")


def test_history_lists_hold_floats():
    history = filled_history()
    assert all(isinstance(v, float) for v in history.loss + history.grad_norm)
    assert not np.isnan(history.grad_norm).any()
