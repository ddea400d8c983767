"""Saves killed at random moments, leftovers, and Ctrl-C in programs that train several models.

The kill test forks a process (with mlpnet already imported, so each round starts at once) that
saves two models alternately to one path without pause, SIGKILLs it at a random moment, and then
checks that the path holds one of the two models intact and that the next save leaves no
temporary file behind.
"""

import os
import runpy
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mlpnet
from mlpnet import optim
from mlpnet._atomic import leftovers, temporary_prefix
from mlpnet.cli import cli
from mlpnet.network import Objective

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def saving_forever(path, nets):
    """Fork a process that saves `nets` to `path` in turn until killed; return its pid."""
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(ready_read)
            nets[0].save(path)
            os.write(ready_write, b"x")
            k = 1
            while True:
                nets[k % 2].save(path)
                k += 1
        finally:
            os._exit(0)
    os.close(ready_write)
    os.read(ready_read, 1)  # the first save is complete
    os.close(ready_read)
    return pid


@posix_only
def test_killed_saves_leave_the_old_or_the_new_model_and_no_leftovers(tmp_path):
    path = tmp_path / "model.npz"
    # about 1.6 MB each: a save takes long enough to be killed in the middle of it
    nets = [mlpnet.Network([784, 500, 10], seed=seed, dtype="float32") for seed in (0, 1)]
    rng = np.random.default_rng(0)
    kills, mid_write = 30, 0
    for _ in range(kills):
        pid = saving_forever(path, nets)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)  # reaped: its pid no longer exists
        left = temporaries(tmp_path)
        assert len(left) <= 1 and all(n.startswith(".model.npz.") for n in left), left
        mid_write += len(left)
        loaded = mlpnet.load(path)  # whatever the moment, a whole model
        assert any(np.array_equal(loaded.params, net.params) for net in nets)
        nets[0].save(path)  # the next save removes what the killed one left
        assert temporaries(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert mid_write >= kills // 3, f"only {mid_write} of {kills} kills hit a save in progress"


@posix_only
def test_a_live_writers_temporary_is_never_removed(tmp_path):
    path = tmp_path / "m.npz"
    parent_pid = os.getppid()  # alive for the whole test
    live = tmp_path / f"{temporary_prefix(path, parent_pid)}abc123.part"
    ours = tmp_path / f"{temporary_prefix(path)}def456.part"  # another thread of this process
    done = os.fork()
    if done == 0:
        os._exit(0)
    os.waitpid(done, 0)
    dead = tmp_path / f"{temporary_prefix(path, done)}ghi789.part"
    other_path = tmp_path / f"{temporary_prefix(tmp_path / 'other.npz', done)}jkl012.part"
    foreign = tmp_path / "tmpxyz.part"  # not named by mlpnet: left alone
    for file in (live, ours, dead, other_path, foreign):
        file.write_bytes(b"half a model")
    assert leftovers(path) == [dead]
    mlpnet.Network([2, 1]).save(path)
    assert not dead.exists()
    assert all(p.exists() for p in (live, ours, other_path, foreign))


def test_the_temporary_name_holds_the_host_and_pid(tmp_path):
    prefix = temporary_prefix(tmp_path / "m.npz")
    assert prefix.startswith(".m.npz.") and prefix.endswith(f".{os.getpid()}.")


# ---------------------------------------------------------------------------- Ctrl-C


class InterruptAt:
    """Raise KeyboardInterrupt (as Ctrl-C would) at the n-th SGD step overall (either path: the
    optimizer's step, or the fused step θ ← θ − γ∇J of plain SGD)."""

    def __init__(self, monkeypatch, n):
        self.count, self.n = 0, n
        for owner, name in ((optim.SGD, "step"), (Objective, "descend")):
            monkeypatch.setattr(owner, name, self.counting(getattr(owner, name)))

    def counting(self, original):
        def step(*args, **kwargs):
            self.count += 1
            if self.count == self.n:
                raise KeyboardInterrupt
            return original(*args, **kwargs)

        return step


def test_history_says_it_was_interrupted(monkeypatch):
    X, y = mlpnet.datasets.xor()
    InterruptAt(monkeypatch, 3)
    net = mlpnet.Network([2, 2, 1])
    history = net.fit(X, y, loss="half_squared_error", optimizer="sgd", epochs=10)
    assert history.interrupted and history.stop_reason == "interrupted"
    with pytest.raises(KeyboardInterrupt):
        history.raise_if_interrupted()
    complete = net.fit(X, y, loss="half_squared_error", epochs=1)
    assert not complete.interrupted and complete.raise_if_interrupted() is complete


def test_ctrl_c_stops_the_demo_with_130_and_no_result_for_the_cut_model(monkeypatch, tmp_path):
    # 2 epochs of 45 steps for softmax regression, then the MLP is interrupted in its first epoch
    InterruptAt(monkeypatch, 100)
    result = CliRunner().invoke(
        cli, ["demo", "--epochs", "2", "--no-plots", "--out", str(tmp_path)]
    )
    assert result.exit_code == 130
    assert "softmax regression" in result.stdout.split("model")[-1]  # the finished one's row
    assert "MLP 64-100-10 ReLU " not in result.stdout.split("params")[-1]
    assert "interrupted while training MLP 64-100-10 ReLU" in result.stderr


def test_ctrl_c_stops_an_example_script_with_130(monkeypatch, tmp_path, capsys):
    calls = []
    original = optim.LBFGS.run

    def run(opt, *args, **kwargs):  # the second seed's L-BFGS is interrupted
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(opt, *args, **kwargs)

    monkeypatch.setattr(optim.LBFGS, "run", run)
    monkeypatch.setattr(sys, "argv", ["xor.py", "--quick", "--out", str(tmp_path)])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(EXAMPLES / "xor.py"), run_name="__main__")
    assert info.value.code == 130
    out, err = capsys.readouterr()
    assert "seed 0:" in out and "seed 1:" not in out and "reach the four" not in out
    assert "interrupted while training seed 1" in err
    assert not list(tmp_path.iterdir())  # no figure from a cut-short run
