"""A newcomer's surprises (issue 9, items 4-6): defaults, --standardize, text labels, pipes, -o."""

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli import invoke

import mlpnet
from mlpnet import bench, optim
from mlpnet.checkpoint import Checkpoint
from mlpnet.cli._build import make_optimizer
from mlpnet.cli._data import scale_warning, standardize, standardizer
from mlpnet.cli._evaluate import load_model

SRC = Path(__file__).resolve().parents[1] / "src"


def one_error_line(result, code):
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def write_table(path, X, labels, names=None):
    names = names or [f"f{j}" for j in range(X.shape[1])]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*names, "label"])
        for row, label in zip(X, labels, strict=True):
            writer.writerow([f"{v:.6g}" for v in row] + [label])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def yes_no(workdir):
    """yes_no.csv: two classes "no"/"yes", separable, the label column holding words."""
    rng = np.random.default_rng(0)
    y = np.arange(80) % 2
    X = rng.standard_normal((80, 2)) + 3.0 * y[:, None]
    write_table(workdir / "yes_no.csv", X, np.array(["no", "yes"])[y])
    return y


# ------------------------------------------------------------------ one table of defaults


def test_fit_and_the_command_line_read_one_table_of_defaults():
    opts = {"lr": None, "schedule": None, "momentum": None, "nesterov": False, "seed": 0}
    for name, row in optim.DEFAULTS.items():
        by_fit = optim.get_optimizer(name, seed=0)
        by_cli = make_optimizer(name, opts, total_steps=10)
        assert type(by_fit) is type(by_cli) is row.cls
        for key, value in row.params.items():
            assert getattr(by_fit, key) == value  # fit(optimizer=name) takes the table's values
            if key != row.step_name:
                assert getattr(by_cli, key) == value
        if row.step_name:
            assert getattr(by_cli, row.step_name) == row.step(cli=True)
    # the one documented difference: sgd's step on the command line's mini-batches
    assert optim.DEFAULTS["sgd"].step() == 0.01 and optim.DEFAULTS["sgd"].step(cli=True) == 0.1
    help_text = " ".join(invoke("train --help").stdout.split())
    assert "mlpnet.optim.DEFAULTS" in help_text and "sgd 0.1" in help_text
    assert "fit's is 0.01" in help_text


def test_lr_for_an_optimizer_without_a_step_is_refused(workdir):
    line = one_error_line(invoke("train --data xor --optimizer lbfgs --lr 0.1"), 1)
    assert "--lr does not apply to lbfgs" in line


def test_fit_takes_batch_size_full_as_none():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    thetas = []
    for batch_size in (None, "full", "FULL"):
        net = mlpnet.Network([3, 4, 2], seed=0)
        history = net.fit(X, y, loss="softmax_cross_entropy", batch_size=batch_size, epochs=3)
        assert len(history.step_loss) == 3  # one full-batch step per epoch
        thetas.append(net.params.copy())
    np.testing.assert_array_equal(thetas[0], thetas[1])  # the same code path: bit for bit
    np.testing.assert_array_equal(thetas[0], thetas[2])
    with pytest.raises(ValueError, match="batch_size"):
        mlpnet.Network([3, 2], seed=0).fit(X, y, loss="softmax_cross_entropy", batch_size="half")


# ------------------------------------------------------------------ bench says what it runs


@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")  # scikit-learn on 50 rows
def test_bench_titles_give_the_sizes_actually_run(monkeypatch):
    for name, (title, _, _) in bench.BENCHMARKS.items():
        full, quick = bench.SIZE[name]
        assert title(full) != title(quick)
    seen = []
    real = bench.synthetic

    def recording(n, seed=0):
        seen.append(n)
        return real(50, seed)  # run on 50 rows: only the size asked for matters here

    monkeypatch.setattr(bench.cases, "synthetic", recording)  # where the benchmarks look it up
    result = invoke("bench --quick --only minibatch --repeats 1 --threads 1")
    assert result.exit_code == 0, result.stderr
    assert seen == [bench.size("minibatch", quick=True)] == [12_000]
    assert "one epoch of 12,000 rows" in result.stdout and "60,000" not in result.stdout
    assert "mlpnet threads: 1" in result.stdout


# ---------------------------------------------------------------------------- --standardize


def test_standardizer_centres_constant_columns_without_dividing_by_zero():
    X = np.array([[1.0, 5.0, 1000.0], [3.0, 5.0, 3000.0]])
    stats = standardizer(X)
    assert stats["std"] == [1.0, 1.0, 1000.0]  # the constant column keeps std 1
    np.testing.assert_allclose(standardize(X, stats), [[-1, 0, -1], [1, 0, 1]])


def test_scale_warning_for_orders_of_magnitude_but_not_for_pixels():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    assert scale_warning(X) is None
    X[:, 2] = 1000 + 300 * X[:, 2]  # like wine's proline
    assert "'proline'" in scale_warning(X, ["a", "b", "proline", "d"])
    pixels = np.zeros((100, 64))
    pixels[:, 8:56] = rng.random((100, 48))
    pixels[3, 0] = 1 / 255  # a border pixel touched once: tiny scale, no warning
    assert scale_warning(pixels) is None


def test_standardize_is_saved_with_the_model_and_used_by_evaluate_and_predict(workdir):
    rng = np.random.default_rng(1)
    y = np.arange(150) % 3
    X = rng.standard_normal((150, 3)) + 5.0 * np.eye(3)[y]
    X[:, 0] = 1000.0 + 300.0 * X[:, 0]  # one feature a thousand times the others
    X = np.column_stack([X, np.full(150, 7.0)])  # and a constant one
    write_table(workdir / "raw.csv", X, y)

    plain = invoke("train --data raw.csv --hidden 16 --epochs 30 -o plain.npz")
    assert plain.exit_code == 0 and "consider --standardize" in plain.stderr

    scaled = invoke("train --data raw.csv --hidden 16 --epochs 30 --standardize -o scaled.npz")
    assert scaled.exit_code == 0, scaled.stderr
    assert "warning" not in scaled.stderr
    stats = load_model("scaled.npz")[1]["standardization"]
    # the CSV holds 6 significant digits: the saved means are those of the rounded values
    np.testing.assert_allclose(stats["mean"], X.mean(axis=0), rtol=1e-5)
    assert stats["std"][-1] == 1.0

    def accuracy(model):
        evaluated = invoke(f"evaluate {model} --data raw.csv")
        return float(re.search(r"accuracy: ([\d.]+)%", evaluated.stdout).group(1))

    assert accuracy("plain.npz") < 60.0  # the large column swamps the rest: about chance
    assert accuracy("scaled.npz") > 95.0
    predicted = invoke("predict scaled.npz raw.csv")
    labels = np.array([int(v) for v in predicted.stdout.split()[1:]])
    assert np.mean(labels == y) > 0.95


# ---------------------------------------------------------------------------- text labels


def test_text_labels_train_evaluate_and_predict_as_text(yes_no):
    trained = invoke("train --data yes_no.csv --hidden 8 --epochs 30 -o yn.npz")
    assert trained.exit_code == 0, trained.stderr
    assert load_model("yn.npz")[1]["class_names"] == ["no", "yes"]
    evaluated = invoke("evaluate yn.npz --data yes_no.csv")
    assert evaluated.exit_code == 0, evaluated.stderr
    assert "classes: 0 = no, 1 = yes" in evaluated.stdout
    predicted = invoke("predict yn.npz yes_no.csv --proba")
    rows = list(csv.reader(predicted.stdout.splitlines()))
    assert rows[0] == ["label", "p_0", "p_1"]
    words = np.array([r[0] for r in rows[1:]])
    assert set(words) <= {"yes", "no"} and np.mean(words == np.array(["no", "yes"])[yes_no]) > 0.9


def test_text_labels_the_model_never_saw_are_named(yes_no, workdir):
    assert invoke("train --data yes_no.csv --epochs 2 -o yn.npz").exit_code == 0
    text = (workdir / "yes_no.csv").read_text().replace(",yes\n", ",maybe\n", 1)
    (workdir / "other.csv").write_text(text)
    assert "'maybe'" in one_error_line(invoke("evaluate yn.npz --data other.csv"), 1)
    line = one_error_line(invoke("train --data yes_no.csv --loss half_squared_error"), 1)
    assert "text labels need a classification loss" in line


# ---------------------------------------------------------------------------- options, wording


def test_train_without_data_is_a_usage_error():
    assert "--data is required" in one_error_line(invoke("train"), 2)


def test_evaluate_split_on_a_file_is_refused_and_works_on_built_in_data(yes_no):
    assert invoke("train --data yes_no.csv --epochs 2 -o yn.npz").exit_code == 0
    line = one_error_line(invoke("evaluate yn.npz --data yes_no.csv --split train"), 2)
    assert "--split applies to the built-in data sets" in line
    assert invoke("train --data xor --epochs 2 -o xor.npz").exit_code == 0
    assert invoke("evaluate xor.npz --data xor --split train").exit_code == 0


def test_predict_into_a_folder_writes_predictions_csv(yes_no, workdir):
    assert invoke("train --data yes_no.csv --epochs 2 -o yn.npz").exit_code == 0
    (workdir / "existing").mkdir()
    for target in ("existing", "new/"):
        result = invoke(f"predict yn.npz yes_no.csv -o {target}")
        written = workdir / target / "predictions.csv"
        assert result.exit_code == 0 and f"to {written.relative_to(workdir)}" in result.stderr
        assert len(written.read_text().splitlines()) == 81
    assert not list(workdir.glob("**/.predictions.csv.*"))  # no temporary file left behind
    line = one_error_line(invoke("predict yn.npz yes_no.csv -o absent/p.csv"), 1)
    assert "no folder absent" in line


def test_interrupted_run_wording(workdir, monkeypatch):
    original = Checkpoint.on_epoch_end

    def interrupt_after_one(self, epoch, logs):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "on_epoch_end", interrupt_after_one)
    result = invoke("train --data xor --epochs 10 --checkpoint c.npz")
    # a cut-short run reports no "stopped by" line as if complete (issue 10): one error line
    assert "stopped by" not in result.stdout and result.exit_code == 130
    assert "interrupted after 1 epoch:" in result.stderr  # singular


def test_threads_options(workdir):
    assert invoke("train --data xor --epochs 2 --threads 1 -o xor.npz").exit_code == 0
    assert invoke("evaluate xor.npz --data xor --threads 2").exit_code == 0
    assert invoke("predict xor.npz --data xor --threads auto").exit_code == 0
    assert "threads must be" in one_error_line(invoke("train --data xor --threads 0"), 1)


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpnet", "demo", "--epochs", "1", "--no-plots"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = [process.stdout.readline() for _ in range(2)]  # what `head -2` reads
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell reports a closed pipe
    assert first[0].startswith("scikit-learn digits") and stderr == ""


# ------------------------------------------------------------------ gradcheck sampling


def test_gradcheck_samples_1000_coordinates_of_a_large_network():
    result = invoke("gradcheck --layers 784,200,10 --activation relu")
    assert result.exit_code == 0, result.stderr
    assert "checked 1,000 of 159,010 coordinates (seed 0)" in result.stdout
    assert result.stdout.endswith("ok\n")
    small = invoke("gradcheck --coordinates 10 --seed 3")
    assert "checked 10 of 44 coordinates (seed 3)" in small.stdout


def test_gradcheck_full_estimates_its_time_first():
    result = invoke("gradcheck --layers 20,10,3 --full")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    estimate = next(i for i, line in enumerate(lines) if line.startswith("full check:"))
    assert re.search(r"243 coordinates × 2 forward passes of [\d.e+-]+ ms ≈ ", lines[estimate])
    assert lines.index("checked all 243 coordinates") > estimate
