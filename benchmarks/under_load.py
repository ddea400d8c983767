"""One epoch of mini-batch SGD idle and beside a competing CPU-bound process (issue 9, item 4).

    python benchmarks/under_load.py                    # batch 100, 60,000 rows, median of 3
    python benchmarks/under_load.py --repeats 5 --batch 1000
    python benchmarks/under_load.py --rows 12000       # a quicker look

The network is the notes' MNIST classifier, 784-200-10 ReLU, softmax cross-entropy, float32, on
synthetic data of MNIST's shape. Each configuration — mlpnet with ``threads="auto"``, 1 and 2, and
PyTorch (if installed) with its default thread count — runs one epoch in each of `--repeats`
rounds (after one unmeasured epoch) twice: on the idle machine, then while this script keeps a
busy-loop subprocess running beside it (``while True: pass``), which it starts itself and always
stops, Ctrl-C included; medians over the rounds (alternating rounds make load from elsewhere
that drifts during the run weigh on both columns alike). Goals: loaded ≤ 1.5 × idle, and mlpnet
never slower than PyTorch under the same load. "Idle" means "without our competitor": the
header gives the load average at the start so that a busy machine shows.
"""

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

import mlpnet  # noqa: E402
from mlpnet import bench  # noqa: E402
from mlpnet._threads import choose_threads  # noqa: E402

BUSY_LOOP = "while True: pass"


def epoch_timer(kind, threads, X, y, batch):
    """A function running one epoch of `kind` ("mlpnet" or "pytorch"), and its thread count."""
    layers = bench.initial_layers()
    if kind == "mlpnet":
        net = mlpnet.Network(bench.SIZES, activation="relu", seed=0)

        def run():
            net.fit(
                X,
                y,
                loss="softmax_cross_entropy",
                optimizer=mlpnet.optim.SGD(lr=0.1),
                batch_size=batch,
                epochs=1,
                shuffle=False,
                progress=False,
                threads=threads,
            )

        return run
    import torch

    model = bench.torch_model(torch, layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    return lambda: bench.torch_epoch(torch, model, opt, Xt, yt, batch)


def measure(configs, X, y, batch, repeats):
    """Median seconds of one epoch per configuration, idle and loaded, in alternating rounds.

    Each round times every configuration once idle, then once beside the busy loop (started for
    the round and stopped after it), so that load from elsewhere that drifts during the run
    weighs on both columns alike. One unmeasured epoch of each comes first.
    """
    timers = {
        name: epoch_timer(kind, threads, X, y, batch) for name, (kind, threads) in configs.items()
    }
    for run in timers.values():
        run()
    times = {name: ([], []) for name in configs}
    for round_ in range(repeats):
        for column, label in enumerate(("idle", "loaded")):
            competitor = start_competitor() if column else None
            try:
                if competitor is not None:
                    time.sleep(0.5)  # let it reach the run queue
                for name, run in timers.items():
                    start = time.perf_counter()
                    run()
                    times[name][column].append(time.perf_counter() - start)
                    print(
                        f"  round {round_ + 1}, {label}: {name}: {times[name][column][-1]:.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            finally:
                if competitor is not None:
                    stop(competitor)
    return (
        {name: statistics.median(t[0]) for name, t in times.items()},
        {name: statistics.median(t[1]) for name, t in times.items()},
    )


def start_competitor():
    """A CPU-bound Python process (the caller must stop it)."""
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP])


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=60_000, help="rows in the epoch")
    parser.add_argument("--batch", type=int, default=100, help="mini-batch size")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per figure (median)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the loop
    X, y = bench.synthetic(args.rows)
    n_params = mlpnet.Network(bench.SIZES).n_params
    configs = {
        "mlpnet, threads='auto'": ("mlpnet", "auto"),
        "mlpnet, threads=1": ("mlpnet", 1),
        "mlpnet, threads=2": ("mlpnet", 2),
    }
    try:
        import torch

        configs[f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"] = (
            "pytorch",
            None,
        )
    except ImportError:
        print("PyTorch is not installed: no PyTorch row")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"784-200-10 float32, batch {args.batch}, one epoch of {args.rows:,} rows, median of "
        f"{args.repeats}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"NumPy {np.__version__}, {bench.blas_threads()} BLAS threads by default; "
        f"load average {load:.2f} at the start",
        flush=True,
    )
    idle_auto = choose_threads("auto", args.batch, n_params)
    competitor = start_competitor()
    try:
        time.sleep(0.5)
        loaded_auto = choose_threads("auto", args.batch, n_params)
    finally:
        stop(competitor)
    idle, loaded = measure(configs, X, y, args.batch, args.repeats)
    torch_loaded = next((v for k, v in loaded.items() if k.startswith("PyTorch")), None)
    print(f"threads='auto' chose {idle_auto} idle and {loaded_auto} under load\n")
    print("| configuration | idle s | with one busy process s | loaded / idle | ÷ PyTorch loaded |")
    print("|---|---|---|---|---|")
    for name in configs:
        ratio = loaded[name] / idle[name]
        versus = f"{loaded[name] / torch_loaded:.2f}" if torch_loaded else "—"
        print(f"| {name} | {idle[name]:.3f} | {loaded[name]:.3f} | {ratio:.2f} | {versus} |")
    return idle, loaded


if __name__ == "__main__":
    main()
