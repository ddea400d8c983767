"""Checkpoint: written atomically every epoch, loadable as a network, and resumable exactly."""

import math

import numpy as np
import pytest

import mlpnet
from mlpnet import io, optim
from mlpnet.callbacks import Callback
from mlpnet.checkpoint import Checkpoint, load_checkpoint, restore_optimizer
from mlpnet.history import EpochLogs


@pytest.fixture
def data():
    X, y = mlpnet.datasets.two_class(n=60, seed=0)
    return X, y


def make_net():
    return mlpnet.Network([2, 5, 2], activation="tanh", seed=0, dtype="float64")


class ReadBack(Callback):
    """After each epoch (and after the Checkpoint before it), read the file back."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_train_begin(self, model):
        self.model = model

    def on_epoch_end(self, epoch, logs):
        net, info = load_checkpoint(self.path)
        self.seen.append((info.epoch, np.array_equal(net.params, self.model.params)))
        assert not list(self.path.parent.glob("*.part"))


def fit(net, data, opt, epochs, callbacks=(), batch_size=None):
    X, y = data
    return net.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=opt,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=list(callbacks),
        seed=0,
    )


def test_written_every_epoch_atomically_and_loadable_as_a_network(tmp_path, data):
    path = tmp_path / "run.ckpt"  # any name: no suffix is added
    net = make_net()
    probe = ReadBack(path)
    fit(net, data, optim.SGD(lr=0.1), 3, [Checkpoint(path, meta={"note": "x"}), probe])
    assert probe.seen == [(1, True), (2, True), (3, True)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]
    loaded = mlpnet.load(path)
    np.testing.assert_array_equal(loaded.params, net.params)
    assert loaded.sizes == [2, 5, 2]
    _, info = load_checkpoint(path)
    assert info.epoch == 3 and info.meta == {"note": "x"}
    assert len(info.history["loss"]) == 3 and len(info.history["accuracy"]) == 3


def test_resume_continues_exactly_where_the_checkpoint_left_off(tmp_path, data):
    path = tmp_path / "ckpt.npz"
    straight = make_net()
    fit(straight, data, optim.SGD(lr=0.2, momentum=0.9), 5)

    first = make_net()
    opt = optim.SGD(lr=0.2, momentum=0.9)
    fit(first, data, opt, 3, [Checkpoint(path, optimizer=opt)])
    fresh = optim.SGD(lr=0.2, momentum=0.9)
    net, info = load_checkpoint(path, optimizer=fresh)
    np.testing.assert_array_equal(net.params, first.params)  # θ at the start of the resumed run
    assert fresh.state.k == opt.state.k == 3
    np.testing.assert_array_equal(fresh.state.velocity, opt.state.velocity)
    more = Checkpoint(path, optimizer=fresh, initial_epoch=info.epoch, history=info.history)
    fit(net, data, fresh, 5 - info.epoch, [more])
    np.testing.assert_allclose(net.params, straight.params, rtol=1e-12, atol=1e-14)
    _, info = load_checkpoint(path)
    assert info.epoch == 5 and len(info.history["loss"]) == 5


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda: optim.Adam(lr=0.05),
        lambda: optim.RandomSearch(scale=0.1, seed=3),
        lambda: optim.LBFGS(),
        lambda: optim.GradientDescent(0.1),
    ],
    ids=["adam", "random_search", "lbfgs", "gd"],
)
def test_optimizer_state_round_trips(tmp_path, data, make_opt):
    path = tmp_path / "ckpt.npz"
    opt = make_opt()
    fit(make_net(), data, opt, 2, [Checkpoint(path, optimizer=opt)])
    fresh = make_opt()
    _, info = load_checkpoint(path)
    assert restore_optimizer(fresh, info)
    for saved, restored in zip(opt.state, fresh.state, strict=True):
        if isinstance(saved, np.random.Generator):
            assert saved.random() == restored.random()
        elif isinstance(saved, np.ndarray):
            np.testing.assert_array_equal(saved, restored)
        else:
            assert saved == restored


def test_a_crash_mid_write_leaves_the_previous_checkpoint_intact(tmp_path, data, monkeypatch):
    path = tmp_path / "ckpt.npz"
    net = make_net()
    fit(net, data, optim.SGD(lr=0.1), 2, [Checkpoint(path)])
    before = path.read_bytes()
    real_savez = io.np.savez

    def crash(fh, **arrays):
        real_savez(fh, **arrays)
        fh.truncate(100)  # half a file on disk, then the process "dies"
        raise OSError("disk full")

    monkeypatch.setattr(io.np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        fit(net, data, optim.SGD(lr=0.1), 2, [Checkpoint(path)])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]  # no .part left behind
    _, info = load_checkpoint(path)
    assert info.epoch == 2


class EpochOnDisk(Callback):
    """After each epoch, the epoch count of the checkpoint file (None before there is one)."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_epoch_end(self, epoch, logs):
        self.seen.append(load_checkpoint(self.path)[1].epoch if self.path.exists() else None)


def test_every_writes_every_nth_epoch_and_the_last(tmp_path, data):
    path = tmp_path / "ckpt.npz"
    probe = EpochOnDisk(path)
    fit(make_net(), data, optim.SGD(lr=0.1), 5, [Checkpoint(path, every=2), probe])
    assert probe.seen == [None, 2, 2, 4, 4]
    assert load_checkpoint(path)[1].epoch == 5  # written at the end of training


def test_non_finite_figures_are_stored_as_null_and_read_as_nan(tmp_path):
    path = tmp_path / "ckpt.npz"
    ckpt = Checkpoint(path)
    ckpt.on_train_begin(make_net())
    ckpt.on_epoch_end(0, EpochLogs(epoch=0, loss=math.inf))
    _, info = load_checkpoint(path)
    assert math.isnan(info.history["loss"][0])


def test_stateless_optimizers_checkpoint_no_state(tmp_path, data):
    path = tmp_path / "ckpt.npz"
    opt = optim.Armijo()
    fit(make_net(), data, opt, 1, [Checkpoint(path, optimizer=opt)])
    _, info = load_checkpoint(path)
    assert info.optimizer == {"class": "Armijo", "state": None}
    assert not restore_optimizer(optim.Armijo(), info)


def test_restore_optimizer_refuses_another_class(tmp_path, data):
    path = tmp_path / "ckpt.npz"
    opt = optim.SGD(lr=0.1)
    fit(make_net(), data, opt, 1, [Checkpoint(path, optimizer=opt)])
    adam = optim.Adam()
    net, info = load_checkpoint(path, optimizer=adam)
    assert adam.state.t == 0
    assert info.optimizer["class"] == "SGD" and not restore_optimizer(adam, info)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"every": 0}, "every must be a positive"), ({"initial_epoch": -1}, "initial_epoch")],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Checkpoint(tmp_path / "c.npz", **kwargs)


def test_a_missing_folder_is_refused_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        Checkpoint(tmp_path / "absent" / "c.npz")


def test_a_model_without_spec_is_refused(tmp_path):
    class Bare:
        params = np.zeros(3)

    with pytest.raises(ValueError, match="spec"):
        Checkpoint(tmp_path / "c.npz").on_train_begin(Bare())


def test_load_checkpoint_errors_name_the_file(tmp_path):
    plain = tmp_path / "model.npz"
    make_net().save(plain)
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(plain)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        load_checkpoint(tmp_path / "junk.npz")
