"""The command line, end to end: subprocesses for the real entry point, CliRunner elsewhere."""

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mlpnet
from mlpnet.checkpoint import Checkpoint, load_checkpoint
from mlpnet.cli import cli

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = ["train", "evaluate", "predict", "gradcheck", "demo", "bench"]


def run(cwd, command):
    """``python -m mlpnet COMMAND`` in a subprocess, with this checkout's src first on the path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "mlpnet", *shlex.split(command)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def invoke(command=""):
    """``mlpnet COMMAND`` in this process (stderr apart; exceptions escape as test failures)."""
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli, shlex.split(command), catch_exceptions=False)


def assert_one_error_line(result, code=None):
    """Exactly one line "error: …" on stderr, a non-zero status (`code` if given); the line."""
    status = result.returncode if hasattr(result, "returncode") else result.exit_code
    assert status != 0 and (code is None or status == code)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def write_blobs(path, n=120, seed=0, with_label=True, n_features=3):
    """Three Gaussian blobs, well apart: a CSV with a header row and a label column."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = np.array([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])
    X = centres[y] + 0.7 * rng.standard_normal((n, 3))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        names = ["f1", "f2", "f3"][:n_features]
        writer.writerow(names + (["label"] if with_label else []))
        for xi, yi in zip(X, y, strict=True):
            writer.writerow([f"{v:.6f}" for v in xi[:n_features]] + ([yi] if with_label else []))
    return y


def accuracy_of(output):
    return float(re.search(r"accuracy: ([\d.]+)%", output).group(1))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def blobs(workdir):
    """blobs.csv in the working folder; its labels."""
    return write_blobs(workdir / "blobs.csv")


@pytest.fixture
def blob_model(workdir, blobs):
    """A classifier trained on blobs.csv, saved as model.npz in the working folder."""
    result = invoke("train --data blobs.csv --hidden 8 --epochs 20")
    assert result.exit_code == 0, result.stderr
    return workdir / "model.npz"


# ---------------------------------------------------------------------------- end to end


def test_train_save_evaluate_predict_on_a_csv(tmp_path):
    labels = write_blobs(tmp_path / "train.csv")
    trained = run(
        tmp_path,
        "train --data train.csv --target label --hidden 8 --epochs 30 --lr 0.1 -o blobs.npz",
    )
    assert trained.returncode == 0, trained.stderr
    assert "saved blobs.npz" in trained.stdout
    assert isinstance(mlpnet.load(tmp_path / "blobs.npz"), mlpnet.Network)

    evaluated = run(tmp_path, "evaluate blobs.npz --data train.csv")
    assert evaluated.returncode == 0, evaluated.stderr
    assert accuracy_of(evaluated.stdout) >= 95.0
    assert (
        "confusion matrix" in evaluated.stdout
        and "loss (softmax_cross_entropy)" in evaluated.stdout
    )

    predicted = run(tmp_path, "predict blobs.npz train.csv -o pred.csv")
    assert predicted.returncode == 0, predicted.stderr
    rows = list(csv.reader((tmp_path / "pred.csv").read_text().splitlines()))
    assert rows[0] == ["label"] and len(rows) == len(labels) + 1
    assert np.mean(np.array([int(r[0]) for r in rows[1:]]) == labels) >= 0.95

    to_stdout = run(tmp_path, "predict blobs.npz train.csv")
    assert to_stdout.stdout == (tmp_path / "pred.csv").read_text()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("train --data missing.csv", "not found"),
        ("train --data xor --activation bogus", "unknown activation 'bogus'"),
        ("train --data xor --layers 2,x,2", "--layers"),
        ("train --data xor --layers 3,4,2", "does not fit the data"),
        ("train --data blobs.csv --target absent", "no target column 'absent'"),
        ("train --data xor --epochs -3", "--epochs"),
        ("train --data xor --no-such-option", "no-such-option"),
        ("predict model.npz two_features.csv", "two_features.csv: expected 3 features, got 2"),
        ("evaluate corrupt.npz --data xor", "corrupt.npz"),
        ("evaluate absent.npz --data xor", "absent.npz"),
        ("no-such-command", "no-such-command"),
    ],
)
def test_each_bad_argument_is_one_error_line_without_traceback(tmp_path, command, message):
    write_blobs(tmp_path / "blobs.csv")
    write_blobs(tmp_path / "two_features.csv", with_label=False, n_features=2)
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not really a zip archive")
    mlpnet.Network([3, 4, 3], seed=0).save(tmp_path / "model.npz")
    result = run(tmp_path, command)
    assert message in assert_one_error_line(result)
    assert result.stdout == ""


def test_help_of_the_real_entry_point(tmp_path):
    result = run(tmp_path, "--help")
    assert result.returncode == 0 and all(command in result.stdout for command in COMMANDS)


def test_bare_mlpnet_shows_the_help():
    result = invoke()
    assert result.exit_code == 0 and "Commands:" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command):
    result = invoke(f"{command} --help")
    assert result.exit_code == 0 and "Usage: " in result.stdout


def test_demo_writes_its_plots_and_both_test_errors(tmp_path):
    result = run(tmp_path, "demo --epochs 2 --out figures")
    assert result.returncode == 0, result.stderr
    for model in ("softmax regression", "MLP 64-100-10 ReLU"):
        row = next(line for line in result.stdout.splitlines() if line.startswith(model))
        test_error = float(row.split("%")[1])
        assert 0.0 <= test_error < 50.0
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "mlp_training_curves.png",
        "softmax_training_curves.png",
    ]


def test_bench_runs_the_quick_gradcheck():
    result = invoke("bench --quick --only gradcheck --repeats 1")
    assert result.exit_code == 0, result.stderr
    assert "gradcheck" in result.stdout and "| n_params |" in result.stdout


# ---------------------------------------------------------------------------- train


def test_train_xor_to_zero_error(workdir):
    result = invoke(
        "train --data xor --hidden 4 --activation tanh --epochs 300 --lr 0.5 --batch-size full "
        "-o xor.npz"
    )
    assert result.exit_code == 0, result.stderr
    evaluated = invoke("evaluate xor.npz --data xor")
    assert accuracy_of(evaluated.stdout) == 100.0


def test_train_digits_quickly_with_validation_and_plot(workdir):
    result = invoke(
        "train --data digits --hidden 32 --epochs 3 --val-split 0.2 --plot plots -o digits.npz"
    )
    assert result.exit_code == 0, result.stderr
    assert "val_accuracy" in result.stdout and (workdir / "plots" / "training_curves.png").is_file()
    assert accuracy_of(invoke("evaluate digits.npz --data digits").stdout) > 80.0


@pytest.mark.parametrize(
    "optimizer",
    ["gd", "sgd", "momentum", "adam", "armijo", "exact_line_search", "lbfgs", "random_search"],
)
def test_every_optimizer_trains_and_checkpoints(workdir, optimizer):
    result = invoke(
        f"train --data xor --hidden 3 --epochs 2 --optimizer {optimizer} --checkpoint run/ckpt.npz"
    )
    assert result.exit_code == 0, result.stderr
    _, info = load_checkpoint(workdir / "run" / "ckpt.npz")
    assert info.epoch == 2 and info.meta["optimizer"] == optimizer


@pytest.mark.parametrize("schedule", ["constant", "inverse_time", "invscaling", "step", "cosine"])
def test_every_schedule(workdir, schedule):
    result = invoke(f"train --data xor --epochs 2 --schedule {schedule}")
    assert result.exit_code == 0, result.stderr


def test_resume_starts_from_the_checkpoint_and_counts_its_epochs(blobs, workdir):
    first = invoke(
        "train --data blobs.csv --hidden 8 --epochs 3 --momentum 0.5 --checkpoint ckpt.npz -o a.npz"
    )
    assert first.exit_code == 0, first.stderr
    checkpoint_theta = mlpnet.load(workdir / "ckpt.npz").params.copy()
    again = invoke("train --resume ckpt.npz")  # all 3 epochs done: θ stays
    assert "already holds 3 of 3 epochs" in again.stdout
    np.testing.assert_array_equal(mlpnet.load(workdir / "a.npz").params, checkpoint_theta)
    more = invoke("train --resume ckpt.npz --epochs 5")
    assert more.exit_code == 0, more.stderr
    assert "resuming from ckpt.npz after 3 epochs" in more.stdout and "epoch 5:" in more.stdout
    net, info = load_checkpoint(workdir / "ckpt.npz")
    assert info.epoch == 5 and len(info.history["loss"]) == 5
    assert info.meta["momentum"] == 0.5 and net.sizes == [3, 8, 3]
    fixed = invoke("train --resume ckpt.npz --hidden 4")
    assert "--hidden cannot be used with --resume" in assert_one_error_line(fixed, 1)


def test_ctrl_c_saves_the_model_and_exits_130(workdir, monkeypatch):
    original = Checkpoint.on_epoch_end

    def interrupt_after_two(self, epoch, logs):
        original(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "on_epoch_end", interrupt_after_two)
    result = invoke("train --data xor --epochs 10 --checkpoint c.npz")
    line = assert_one_error_line(result, 130)
    assert "interrupted after 2 epochs" in line and "--resume c.npz" in line
    assert "model.interrupted.npz (model.npz not written)" in line
    assert not (workdir / "model.npz").exists() and load_checkpoint("c.npz")[1].epoch == 2
    saved = mlpnet.io.read_npz("model.interrupted.npz").spec["training"]
    assert saved["interrupted_after_epochs"] == 2 and "stopped by" not in result.stdout


def test_ctrl_c_never_replaces_an_existing_model(workdir, monkeypatch):
    assert invoke("train --data xor --epochs 3 -o good.npz").exit_code == 0
    before = (workdir / "good.npz").read_bytes()
    original = Checkpoint.on_epoch_end

    def interrupt_at_once(self, epoch, logs):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "on_epoch_end", interrupt_at_once)
    result = invoke("train --data xor --epochs 50 --checkpoint c.npz -o good.npz")
    line = assert_one_error_line(result, 130)
    assert "saved the model trained so far to good.interrupted.npz" in line
    assert "(good.npz left as it was)" in line
    assert (workdir / "good.npz").read_bytes() == before
    interrupted = mlpnet.load("good.interrupted.npz")
    np.testing.assert_array_equal(interrupted.params, mlpnet.load("c.npz").params)


def test_ctrl_c_outside_training_is_one_line(workdir, monkeypatch):
    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(mlpnet.datasets, "xor", interrupt)
    assert assert_one_error_line(invoke("train --data xor"), 130) == "error: interrupted"


def test_divergence_is_one_error_line(workdir):
    result = invoke("train --data xor --loss squared_error --lr 1e6 --batch-size 1 --epochs 20")
    assert "training diverged" in assert_one_error_line(result, 1)


def test_an_unexpected_exception_is_still_one_line(workdir, monkeypatch):
    def broken():
        raise TypeError("boom")

    monkeypatch.setattr(mlpnet.datasets, "xor", broken)
    line = assert_one_error_line(invoke("train --data xor"), 1)
    assert "unexpected TypeError: boom" in line


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--val-split 1.5", "--val-split"),
        ("--batch-size 0", "--batch-size"),
        ("--optimizer lbfgs --batch-size 2", "full batch"),
        ("--optimizer adam --momentum 0.9", "--momentum"),
        ("--loss bogus", "unknown loss"),
        ("--lr -1", "lr must be positive"),
        ("--target label", "--target applies to data files"),
        ("--output-activation sigmoid", "sigmoid"),
    ],
)
def test_more_bad_training_options(workdir, options, message):
    assert message in assert_one_error_line(invoke(f"train --data xor {options}"))


# ---------------------------------------------------------------------------- use a model


def test_predict_probabilities_and_features_without_the_target(blob_model, workdir):
    write_blobs(workdir / "features.csv", with_label=False)
    result = invoke("predict model.npz --data features.csv --proba")
    rows = list(csv.reader(result.stdout.splitlines()))
    assert rows[0] == ["label", "p_0", "p_1", "p_2"] and len(rows) == 121
    np.testing.assert_allclose([sum(map(float, r[1:])) for r in rows[1:]], 1.0, atol=1e-4)


def test_regression_model(workdir):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (50, 2))
    np.savez("curve.npz", X=X, y=X[:, 0] ** 2 + 0.5)
    assert invoke("train --data curve.npz --epochs 5 -o r.npz").exit_code == 0
    evaluated = invoke("evaluate r.npz --data curve.npz")
    assert "loss (half_squared_error)" in evaluated.stdout and "accuracy" not in evaluated.stdout
    predicted = invoke("predict r.npz curve.npz").stdout.splitlines()
    assert predicted[0] == "prediction" and len(predicted) == 51


def test_gradcheck_of_a_fresh_network_and_of_a_saved_model(blob_model):
    assert invoke("gradcheck").stdout.endswith("ok\n")
    assert invoke("gradcheck model.npz --samples 3").stdout.endswith("ok\n")
    failing = invoke("gradcheck --tol 0 --eps 1e-2")
    assert "exceeds --tol" in assert_one_error_line(failing, 1)


def test_predict_needs_exactly_one_input(blob_model):
    assert "once" in assert_one_error_line(invoke("predict model.npz"))
    both = invoke("predict model.npz blobs.csv --data blobs.csv")
    assert "once" in assert_one_error_line(both)
