"""The GPU figures quoted in README.md and benchmarks/README.md are those of the recorded H100 run.

No GPU is needed: the run's whole output is committed (benchmarks/results/), and each quoted number
must equal the recorded one to the digits it is quoted with. A new run replaces the file and the
quotes together, or this fails.
"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "results" / "gpu_check_h100_2026-11-26_run3_bd2ab8e.txt"
RUN4 = ROOT / "benchmarks" / "results" / "gpu_check_h100_2026-11-26_run4_e103d80.txt"  # momentum

# table label in benchmarks/README.md -> runner in the output (cells: batch 100 s, µs/step,
# batch 1,000 s, batch 10,000 s)
BENCH_ROWS = {
    "PyTorch eager": "torch_eager",
    "PyTorch, one step captured, replayed per step": "torch_graph",
    "CuPy, the plain loop": "cupy_loop",
    "JAX, jit + lax.scan": "jax_scan",
    "**mlpnet EpochGraph** (`mlpnet_graph`)": "mlpnet_graph",
    "mlpnet EpochGraph, shuffled on the device": "mlpnet_graph_shuffled",
    "mlpnet `net.fit(epochs=1)`, eager": "mlpnet_fit",
}
README_ROWS = {  # README.md's short table: batch 100 s, batch 10,000 s
    "mlpnet EpochGraph": "mlpnet_graph",
    "JAX, jit + lax.scan": "jax_scan",
    "PyTorch, one step captured as a CUDA graph": "torch_graph",
    "PyTorch eager": "torch_eager",
}


@pytest.fixture(scope="module")
def run():
    rows = [json.loads(line) for line in RUN.read_text().splitlines() if line.startswith("{")]
    epochs = {(r["runner"], r["batch"]): r for r in rows if "epoch_s" in r}
    return rows, epochs


def agrees(quoted: str, value: float) -> bool:
    """`quoted` is `value` rounded to the digits it shows (plain or exponent notation)."""
    q = quoted.strip().strip("*").removesuffix(" s").strip("*").strip()
    digits = q.split("e")[0]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    exponent = int(q.split("e")[1]) if "e" in q else 0
    return abs(float(q) - value) <= 0.5 * 10.0 ** (exponent - decimals) * (1 + 1e-9)


def table_rows(text: str, labels) -> dict:
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in labels:
            found[cells[0]] = cells[1:]
    assert set(found) == set(labels), set(labels) - set(found)
    return found


def test_the_recorded_run_is_whole(run):
    rows, epochs = run
    text = RUN.read_text()
    assert "NVIDIA H100" in text and "commit bd2ab8e" in text and "# done" in text
    assert "67 passed" in text and "57 passed" in text and "failed" not in text
    assert all((name, b) in epochs for name in BENCH_ROWS.values() for b in (100, 1000, 10000))


def test_benchmarks_readme_table_quotes_the_run(run):
    _, epochs = run
    text = (ROOT / "benchmarks" / "README.md").read_text()
    for label, cells in table_rows(text, BENCH_ROWS).items():
        name = BENCH_ROWS[label]
        quoted = [cells[0], cells[1], cells[2], cells[3]]
        wanted = [
            epochs[name, 100]["epoch_s"],
            epochs[name, 100]["us_per_step"],
            epochs[name, 1000]["epoch_s"],
            epochs[name, 10000]["epoch_s"],
        ]
        for q, v in zip(quoted, wanted, strict=True):
            assert agrees(q, v), (label, q, v)


def test_readme_table_and_goals_quote_the_run(run):
    rows, epochs = run
    readme = (ROOT / "README.md").read_text()
    for label, cells in table_rows(readme, README_ROWS).items():
        name = README_ROWS[label]
        assert agrees(cells[0], epochs[name, 100]["epoch_s"]), (label, cells)
        assert agrees(cells[1], epochs[name, 10000]["epoch_s"]), (label, cells)
    speedup = next(r["speedup"] for r in rows if r.get("runner") == "gd_step" and "speedup" in r)
    equal = next(r for r in rows if r.get("path") == "EpochGraph")["relative_difference"]
    bench = (ROOT / "benchmarks" / "README.md").read_text()
    for text in (readme, bench):
        assert f"{speedup}×" in text
        assert f"{equal:.2e}" in text
    steps = {r["runner"]: r["kernels_per_step"] for r in rows if "kernels_per_step" in r}
    assert steps["mlpnet_graph"] == 8 and "8 kernels a step" in bench
    assert f"{steps['mlpnet_graph_torch_delta']} kernels, " in bench
    assert f"{steps['mlpnet_graph_generic']} kernels," in bench
    fit6 = epochs["mlpnet_fit_6_epochs", 100]["runs"]
    assert agrees("0.0476", min(fit6)) and "0.0476 s" in bench


def test_momentum_figures_quote_the_fourth_run():
    text = RUN4.read_text()
    assert "NVIDIA H100" in text and "commit e103d80" in text and "69 passed" in text
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    epoch = {r["runner"]: r["epoch_s"] for r in rows if "epoch_s" in r and r["batch"] == 100}
    kernels = {r["runner"]: r["kernels_per_step"] for r in rows if "kernels_per_step" in r}
    bench = (ROOT / "benchmarks" / "README.md").read_text()
    quoted = {
        "mlpnet_graph": ("plain SGD", "8 kernels"),
        "mlpnet_graph_momentum": ("momentum 0.9", "10 kernels"),
        "mlpnet_graph_nesterov": ("), Nesterov", "16 kernels"),
    }
    for runner, (label, count) in quoted.items():
        seconds = bench.split(f"{label} ")[1].split(" s")[0].split()[-1]
        assert agrees(seconds, epoch[runner]), (runner, seconds)
        assert count == f"{kernels[runner]} kernels" and f"s ({count}" in bench
