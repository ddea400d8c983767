"""mlpnet on a GPU beside PyTorch eager, PyTorch CUDA graph, CuPy loop and JAX scan (issue 14).

Setting (as /work/shared/gpu/anchors.py, the anchors of the issue): 784-200-10 ReLU, softmax
cross-entropy, plain SGD lr 0.5, 60,000 rows of float32 resident on the GPU, TF32 off, no shuffling,
median of 5 epochs after one warm-up epoch, batch 100 / 1,000 / 10,000.

    python benchmarks/gpu.py                      # everything found on this machine (CUDA)
    python benchmarks/gpu.py --runners mlpnet_graph,torch_eager --repeats 3
    python benchmarks/gpu.py --device cpu --rows 2000 --repeats 1   # a smoke run without a GPU

Each runner runs in its own process (a peer whose library is missing prints a "skipped" line).
Every runner prints one JSON line per batch size; the summary table at the end gives each runner's
epoch time, µs per step and ratio to PyTorch eager, then the issue's goals, met or missed.

mlpnet runners:
- ``mlpnet_fit``: ``net.fit(epochs=1)`` calls on a ``backend="torch"`` network (device arrays, the
  generic engine, losses read once per epoch: a single epoch is not captured);
- ``mlpnet_fit_graph`` (printed as ``mlpnet_fit_6_epochs``): one ``net.fit(epochs=6)`` call per
  batch size, its time (capture included) over 6 — plain SGD's epochs replayed as CUDA graphs;
- ``mlpnet_graph``: `mlpnet.epoch_graph.EpochGraph`, the epoch captured once as a CUDA graph;
- ``mlpnet_cupy``: ``net.fit`` on a ``backend="cupy"`` network;
- ``gd_step``: one full-batch gradient step on the 60,000 rows, torch on the device vs NumPy with
  2 BLAS threads (the issue's "2-core NumPy step");
- ``equality``: θ after one batch-100 epoch on the device vs the NumPy backend (same θ, order).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

N, D, H, C, LR = 60000, 784, 200, 10, 0.5
LIMIT_S = 0.00075  # 38.4 GFLOP at the measured fp32 GEMM peak of an H100 (51.5 TFLOP/s)
GOALS = {100: 0.022, 10000: 0.0022}  # epoch seconds (JAX's time at batch 100)
RUNNERS = (
    "mlpnet_fit",
    "mlpnet_fit_graph",
    "mlpnet_graph",
    "mlpnet_cupy",
    "gd_step",
    "equality",
    "torch_eager",
    "torch_graph",
    "cupy_loop",
    "jax_scan",
)


def emit(**row):
    print(json.dumps(row), flush=True)


def timed(epoch, sync, repeats):
    epoch()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        epoch()
        sync()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], times


def report(runner, batch, rows, med, times):
    steps = -(-rows // batch)
    emit(
        runner=runner,
        batch=batch,
        epoch_s=round(med, 6),
        us_per_step=round(1e6 * med / steps, 1),
        runs=[round(t, 6) for t in times],
    )


# ---------------------------------------------------------------- mlpnet
def _torch_data(a):
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    g = torch.Generator(device=a.device).manual_seed(0)
    X = torch.rand(a.rows, D, device=a.device, generator=g)
    y = torch.randint(0, C, (a.rows,), device=a.device, generator=g)
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    return X, y, sync


def _fit_epochs(name, a, backend, X, y, sync):
    """Time one-epoch ``net.fit`` calls on `backend` for each batch size."""
    import mlpnet

    device = a.device if backend == "torch" else None
    for b in a.batches:
        net = mlpnet.Network([D, H, C], seed=0, backend=backend, device=device)
        opt = mlpnet.optim.SGD(LR)

        def epoch(net=net, opt=opt, b=b):
            net.fit(X, y, loss="softmax_cross_entropy", optimizer=opt, epochs=1, batch_size=b,
                    shuffle=False, progress=False)  # fmt: skip

        report(name, b, a.rows, *timed(epoch, sync, a.repeats))


def run_mlpnet_fit(a):
    _fit_epochs("mlpnet_fit", a, "torch", *_torch_data(a))


def run_mlpnet_fit_graph(a, epochs=6):
    """One ``net.fit(epochs=6)`` call, timed whole (the capture included), per epoch: on CUDA,
    plain SGD's epochs are EpochGraph replays."""
    import mlpnet

    X, y, sync = _torch_data(a)
    for b in a.batches:
        times = []
        for _ in range(max(1, a.repeats // 2)):
            net = mlpnet.Network([D, H, C], seed=0, backend="torch", device=a.device)
            sync()
            t = time.perf_counter()
            net.fit(X, y, loss="softmax_cross_entropy", optimizer=mlpnet.optim.SGD(LR),
                    epochs=epochs, batch_size=b, shuffle=False, progress=False)  # fmt: skip
            sync()
            times.append((time.perf_counter() - t) / epochs)
        report("mlpnet_fit_6_epochs", b, a.rows, sorted(times)[len(times) // 2], times)


def _kernels_per_step(run, device):
    """CUDA kernels one eager step launches (cuBLAS's own included), by the profiler."""
    if not device.startswith("cuda"):
        return None
    import torch
    from torch.profiler import ProfilerActivity, profile

    if run._lean is not None:
        run._lean.load()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        run._step(0)
        torch.cuda.synchronize()
    names = [e.name for e in prof.events() if e.device_type.name == "CUDA"]
    return len(names), sorted(set(n[:60] for n in names))


def run_mlpnet_graph(a):
    import mlpnet
    from mlpnet.epoch_graph import EpochGraph

    X, y, sync = _torch_data(a)

    class SeparateReLU(EpochGraph):
        _fuse_relu = False

    class TorchDelta(EpochGraph):
        _triton = False  # softmax and δ by PyTorch's kernels, not the Triton one

    variants = (
        ("mlpnet_graph", False, None),
        ("mlpnet_graph_shuffled", True, None),
        ("mlpnet_graph_torch_delta", False, "torch delta"),  # without the Triton kernel
        ("mlpnet_graph_relu_apart", False, "apart"),  # ReLU as its own kernel
        ("mlpnet_graph_generic", False, False),  # the generic engine's step, captured
        ("mlpnet_graph_momentum", False, "momentum"),  # SGD with momentum 0.9
        ("mlpnet_graph_nesterov", False, "nesterov"),  # and with Nesterov's step
    )
    for b in a.batches:
        for name, shuffle, fused in variants:
            if fused is not None and b != 100:
                continue  # the variants are shown at batch 100 only, for the kernel count
            net = mlpnet.Network([D, H, C], seed=0, backend="torch", device=a.device)
            t = time.perf_counter()
            cls = {"apart": SeparateReLU, "torch delta": TorchDelta}.get(fused, EpochGraph)
            extra = {}
            if fused in ("momentum", "nesterov"):
                extra = {"momentum": 0.9, "nesterov": fused == "nesterov"}
                fused = None
            run = cls(net, X, y, loss="softmax_cross_entropy", lr=LR, batch_size=b,
                      shuffle=shuffle, fused=None if fused is None else bool(fused),
                      **extra)  # fmt: skip
            run.epoch()
            sync()
            first = time.perf_counter() - t
            report(name, b, a.rows, *timed(run.epoch, sync, a.repeats))
            try:
                counted = _kernels_per_step(run, a.device) if b == 100 else None
            except Exception as error:  # the profiler is a nicety: keep the timings
                counted = None
                emit(runner=name, batch=b, kernel_count_error=repr(error)[:200])
            extra = {"kernels_per_step": counted[0], "kernels": counted[1]} if counted else {}
            emit(runner=name, batch=b, capture_and_first_epoch_s=round(first, 4), **extra)


def run_mlpnet_cupy(a):
    import cupy as cp

    rs = cp.random.RandomState(0)
    X, y = rs.rand(a.rows, D, dtype=cp.float32), rs.randint(0, C, a.rows)
    _fit_epochs("mlpnet_cupy", a, "cupy", X, y, cp.cuda.Device().synchronize)


def run_gd_step(a):
    import numpy as np
    from threadpoolctl import threadpool_limits

    import mlpnet

    X, y, sync = _torch_data(a)
    Xh, yh = X.cpu().numpy(), y.cpu().numpy()
    out = {}
    for name, net, data in (
        ("numpy_2_threads", mlpnet.Network([D, H, C], seed=0), (Xh, yh)),
        ("device", mlpnet.Network([D, H, C], seed=0, backend="torch", device=a.device), (X, y)),
    ):
        objective = net.objective(*data, "softmax_cross_entropy")
        theta = net.params

        def step(objective=objective, theta=theta):
            J, grad = objective(theta)
            theta -= 0.1 * grad

        with threadpool_limits(2):
            med, times = timed(step, sync, a.repeats)
        out[name] = med
        emit(runner="gd_step", backend=name, rows=a.rows, step_s=round(med, 6))
    emit(runner="gd_step", speedup=round(out["numpy_2_threads"] / out["device"], 1), goal=100)
    del np


def run_equality(a):
    import numpy as np

    import mlpnet
    from mlpnet.backends import to_numpy
    from mlpnet.epoch_graph import EpochGraph

    X, y, _ = _torch_data(a)
    ref = mlpnet.Network([D, H, C], seed=0)
    net, graphed = ref.to("torch", a.device), ref.to("torch", a.device)
    for model, data in ((ref, (X.cpu().numpy(), y.cpu().numpy())), (net, (X, y))):
        model.fit(
            *data,
            loss="softmax_cross_entropy",
            optimizer=mlpnet.optim.SGD(LR),
            epochs=1,
            batch_size=100,
            shuffle=False,
            progress=False,
        )
    EpochGraph(graphed, X, y, loss="softmax_cross_entropy", lr=LR, batch_size=100,
               shuffle=False).fit(1)  # fmt: skip
    b64 = ref.params.astype(np.float64)
    for name, model in (("net.fit", net), ("EpochGraph", graphed)):
        a64 = to_numpy(model.params).astype(np.float64)
        rel = float(np.abs(a64 - b64).max() / np.abs(b64).max())
        emit(runner="equality", path=name, batch=100, relative_difference=rel, goal=1e-5,
             met=rel <= 1e-5)  # fmt: skip


# ---------------------------------------------------------------- peers (anchors.py's code)
def run_torch(a, graph=False):
    import torch

    X, y, sync = _torch_data(a)
    for b in a.batches:
        model = torch.nn.Sequential(
            torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C)
        ).to(a.device)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        lossf = torch.nn.CrossEntropyLoss()
        steps = a.rows // b
        if not graph:

            def epoch(b=b, steps=steps, model=model, opt=opt, lossf=lossf):
                for i in range(steps):
                    opt.zero_grad(set_to_none=True)
                    lossf(model(X[i * b : (i + 1) * b]), y[i * b : (i + 1) * b]).backward()
                    opt.step()
        else:
            sx, sy = X[:b].clone(), y[:b].clone()
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    opt.zero_grad(set_to_none=True)
                    lossf(model(sx), sy).backward()
                    opt.step()
            torch.cuda.current_stream().wait_stream(s)
            cg = torch.cuda.CUDAGraph()
            opt.zero_grad(set_to_none=True)
            with torch.cuda.graph(cg):
                lossf(model(sx), sy).backward()
                opt.step()

            def epoch(b=b, steps=steps, cg=cg, sx=sx, sy=sy):
                for i in range(steps):
                    sx.copy_(X[i * b : (i + 1) * b])
                    sy.copy_(y[i * b : (i + 1) * b])
                    cg.replay()

        report("torch_graph" if graph else "torch_eager", b, a.rows, *timed(epoch, sync, a.repeats))


def run_cupy(a):
    import cupy as cp

    rs = cp.random.RandomState(0)
    X = rs.rand(a.rows, D, dtype=cp.float32)
    y = rs.randint(0, C, a.rows)
    eye = cp.eye(C, dtype=cp.float32)
    for b in a.batches:
        P = [
            rs.randn(H, D, dtype=cp.float32) * 0.05,
            cp.zeros(H, cp.float32),
            rs.randn(C, H, dtype=cp.float32) * 0.05,
            cp.zeros(C, cp.float32),
        ]
        steps = a.rows // b

        def epoch(b=b, steps=steps, P=P):
            W1, b1, W2, b2 = P
            for i in range(steps):
                xb, Y = X[i * b : (i + 1) * b], eye[y[i * b : (i + 1) * b]]
                z1 = xb @ W1.T + b1
                q1 = cp.maximum(z1, 0)
                z2 = q1 @ W2.T + b2
                z2 -= z2.max(axis=1, keepdims=True)
                e = cp.exp(z2)
                d2 = (e / e.sum(axis=1, keepdims=True) - Y) * (LR / b)
                d1 = (d2 @ W2) * (z1 > 0)
                W2 -= d2.T @ q1
                b2 -= d2.sum(0)
                W1 -= d1.T @ xb
                b1 -= d1.sum(0)

        report("cupy_loop", b, a.rows, *timed(epoch, cp.cuda.Device().synchronize, a.repeats))


def run_jax(a):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_default_matmul_precision", "highest")
    key = jax.random.PRNGKey(0)
    X = jax.random.uniform(key, (a.rows, D), jnp.float32)
    y = jax.random.randint(key, (a.rows,), 0, C)
    for b in a.batches:
        k1, k2 = jax.random.split(key)
        params = (
            jax.random.normal(k1, (H, D)) * 0.05,
            jnp.zeros(H),
            jax.random.normal(k2, (C, H)) * 0.05,
            jnp.zeros(C),
        )
        steps = a.rows // b

        def loss(p, xb, yb):
            W1, b1, W2, b2 = p
            z = jnp.maximum(xb @ W1.T + b1, 0) @ W2.T + b2
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), yb[:, None], 1))

        @jax.jit
        def epoch_fn(p, steps=steps, b=b):
            Xs, ys = X[: steps * b].reshape(steps, b, D), y[: steps * b].reshape(steps, b)

            def step(p, batch):
                g = jax.grad(loss)(p, *batch)
                return jax.tree_util.tree_map(lambda w, gw: w - LR * gw, p, g), None

            return jax.lax.scan(step, p, (Xs, ys))[0]

        state = {"p": params}

        def epoch(state=state, epoch_fn=epoch_fn):
            state["p"] = epoch_fn(state["p"])

        def sync(state=state):
            jax.block_until_ready(state["p"])

        report("jax_scan", b, a.rows, *timed(epoch, sync, a.repeats))


CALLS = {
    "mlpnet_fit": run_mlpnet_fit,
    "mlpnet_fit_graph": run_mlpnet_fit_graph,
    "mlpnet_graph": run_mlpnet_graph,
    "mlpnet_cupy": run_mlpnet_cupy,
    "gd_step": run_gd_step,
    "equality": run_equality,
    "torch_eager": lambda a: run_torch(a, False),
    "torch_graph": lambda a: run_torch(a, True),
    "cupy_loop": run_cupy,
    "jax_scan": run_jax,
}
NEEDS = {"mlpnet_cupy": "cupy", "cupy_loop": "cupy", "jax_scan": "jax", "torch_graph": "cuda"}


# ---------------------------------------------------------------- driver and summary
def summary(rows, args):
    epochs = {(r["runner"], r["batch"]): r for r in rows if "epoch_s" in r}
    lines = [
        "",
        "| runner | " + " | ".join(f"batch {b} s (µs/step, × eager)" for b in args.batches) + " |",
        "|---" * (len(args.batches) + 1) + "|",
    ]
    for name in dict.fromkeys(k[0] for k in epochs):
        cells = []
        for b in args.batches:
            r, eager = epochs.get((name, b)), epochs.get(("torch_eager", b))
            if r is None:
                cells.append("—")
                continue
            ratio = f", {eager['epoch_s'] / r['epoch_s']:.1f}× faster" if eager else ""
            cells.append(f"{r['epoch_s']:.4g} ({r['us_per_step']}{ratio})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    best = {
        b: min(
            (r["epoch_s"], n) for (n, bb), r in epochs.items() if bb == b and n.startswith("mlpnet")
        )
        for b in args.batches
        if any(n.startswith("mlpnet") and bb == b for n, bb in epochs)
    }
    for b, goal in GOALS.items():
        if b in best:
            t, n = best[b]
            lines.append(
                f"goal batch {b}: ≤ {goal} s — best mlpnet {n} {t:.4g} s: "
                f"{'met' if t <= goal else 'missed'}; {t / LIMIT_S:.0f}× the 0.75 ms limit"
            )
    for r in rows:
        if "kernels_per_step" in r:
            lines.append(f"{r['runner']}: {r['kernels_per_step']} CUDA kernels per batch-100 step")
        if r.get("runner") == "gd_step" and "speedup" in r:
            lines.append(
                f"goal full-batch GD step ≥ 100× 2-thread NumPy: {r['speedup']}× — "
                f"{'met' if r['speedup'] >= 100 else 'missed'}"
            )
        if r.get("runner") == "equality":
            lines.append(
                f"goal equal to NumPy to 1e-5 after one epoch ({r.get('path')}): "
                f"{r['relative_difference']:.2e} — {'met' if r['met'] else 'missed'}"
            )
    print("\n".join(lines), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runners", default=",".join(RUNNERS))
    p.add_argument("--device", default="cuda")
    p.add_argument("--rows", type=int, default=N)
    p.add_argument("--batches", default="100,1000,10000")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--one", help=argparse.SUPPRESS)  # run one runner in this process
    args = p.parse_args(argv)
    args.batches = [int(b) for b in args.batches.split(",")]
    if args.one:
        CALLS[args.one](args)
        return
    rows = []
    for name in args.runners.split(","):
        need = NEEDS.get(name)
        if need == "cuda" and not args.device.startswith("cuda"):
            emit(runner=name, skipped="needs CUDA")
            continue
        if need in ("cupy", "jax"):
            try:
                __import__(need)
            except ImportError:
                emit(runner=name, skipped=f"{need} is not installed")
                continue
        cmd = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--device",
            args.device,
            "--rows",
            str(args.rows),
            "--batches",
            ",".join(map(str, args.batches)),
            "--repeats",
            str(args.repeats),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=os.environ)
        except subprocess.TimeoutExpired:
            emit(runner=name, error="timed out after 300 s")
            continue
        for line in done.stdout.splitlines():
            print(line, flush=True)
            if line.startswith("{"):
                rows.append(json.loads(line))
        if done.returncode:
            emit(runner=name, error=done.stderr.strip().splitlines()[-1:] or done.returncode)
    summary(rows, args)


if __name__ == "__main__":
    main()
