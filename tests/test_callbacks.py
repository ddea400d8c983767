"""Callbacks driven by hand with scripted figures and a dummy model (Keras' habit)."""

import numpy as np
import pytest

from mlpnet.callbacks import Callback, EarlyStopping
from mlpnet.history import EpochLogs, History


class DummyModel:
    def __init__(self):
        self.params = np.zeros(3)


def drive(callback, losses, monitor="val_loss"):
    """Feed scripted losses; θ is set to the epoch number so restores can be read back."""
    model = DummyModel()
    callback.on_train_begin(model)
    stopped_at = None
    for epoch, value in enumerate(losses):
        model.params[:] = epoch
        loss = value if monitor == "loss" else 1.0
        logs = EpochLogs(epoch, loss, val_loss=value, metrics={"accuracy": value})
        if callback.on_epoch_end(epoch, logs) or callback.stop_training:
            stopped_at = epoch
            break
    callback.on_train_end(History())
    return model, stopped_at


def test_base_callback_hooks_do_nothing():
    callback = Callback()
    model, stopped = drive(callback, [3.0, 2.0, 1.0])
    assert stopped is None and callback.stop_training is False


def test_early_stopping_waits_patience_epochs_and_restores_best():
    callback = EarlyStopping(patience=2)
    model, stopped = drive(callback, [1.0, 0.8, 0.9, 0.85, 0.7])
    assert stopped == 3  # epochs 2 and 3 did not beat 0.8
    assert (callback.best, callback.best_epoch, callback.stopped_epoch) == (0.8, 1, 3)
    np.testing.assert_array_equal(model.params, 1.0)  # θ of epoch 1 restored


def test_early_stopping_restores_best_also_when_epochs_run_out():
    model, stopped = drive(EarlyStopping(patience=5), [1.0, 0.5, 0.7])
    assert stopped is None
    np.testing.assert_array_equal(model.params, 1.0)


def test_restore_best_false_keeps_the_last_parameters():
    model, _ = drive(EarlyStopping(patience=1, restore_best=False), [1.0, 0.5, 0.7])
    np.testing.assert_array_equal(model.params, 2.0)


def test_min_delta_demands_a_real_improvement():
    callback = EarlyStopping(monitor="loss", patience=1, min_delta=0.1)
    _, stopped = drive(callback, [1.0, 0.85, 0.8], monitor="loss")
    assert stopped == 2  # 0.8 is not below 0.85 − 0.1


def test_accuracy_is_maximised():
    callback = EarlyStopping(monitor="accuracy", patience=1)
    model, stopped = drive(callback, [0.5, 0.9, 0.8], monitor="accuracy")
    assert stopped == 2 and callback.best == 0.9
    np.testing.assert_array_equal(model.params, 1.0)


def test_counters_restart_on_a_new_run():
    callback = EarlyStopping(patience=1)
    drive(callback, [1.0, 2.0])
    _, stopped = drive(callback, [5.0, 4.0, 3.0])
    assert stopped is None and callback.best == 3.0


def test_missing_figure_is_an_error_naming_it():
    callback = EarlyStopping(monitor="val_loss")
    callback.on_train_begin(DummyModel())
    with pytest.raises(ValueError, match="monitors 'val_loss', which this run does not record"):
        callback.on_epoch_end(0, EpochLogs(epoch=0, loss=1.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patience": 0}, "patience must be a positive integer, got 0"),
        ({"min_delta": -1.0}, r"min_delta must be in \[0, inf\), got -1.0"),
        ({"mode": "up"}, "mode must be 'auto', 'min' or 'max', got 'up'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


def test_stopping_by_flag():
    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs):
            self.stop_training = epoch == 1

    _, stopped = drive(StopAfterTwo(), [1.0, 1.0, 1.0])
    assert stopped == 1
