"""What Dask costs mlpnet.distributed: overhead per ShardedObjective evaluation, latency, bandwidth.

On a LocalCluster on 127.0.0.1 with 1 and then 2 single-threaded worker processes:

- the 784-200-10 ReLU / softmax cross-entropy network (float32) on 60,000 rows of MNIST's shape
  (uniform pixels, random labels): one ``objective(θ)`` (J and ∇J) in process, with 1 BLAS thread
  (as each worker has) and with NumPy's default, against one `ShardedObjective` evaluation;
- latency: a whole evaluation of a 2-2-1 network on 4 rows in 1 block (nothing to compute), and in
  64 blocks (the slope is the cost of one more task);
- bandwidth: an array sent from the client to a worker and back (8 and 64 MB);
- evaluations per L-BFGS iteration on the same problem (SciPy's ``nfev`` / ``nit``).

Medians of ``--repeats`` runs. The model built on these figures is in benchmarks/README.md::

    PYTHONPATH=src python benchmarks/dask_overhead.py [--repeats 7] [--rows 60000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from mlpnet.bench import environment, median_time, synthetic


def _cpuinfo() -> list[str]:
    try:
        with open("/proc/cpuinfo") as fh:
            return fh.readlines()
    except OSError:
        return []


def paired_times(fa, fb, repeats: int) -> tuple[float, float]:
    """Medians of fa and fb timed alternately (a, b, a, b, …): both see the same load."""
    fa(), fb()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, times in ((fa, ta), (fb, tb)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--block-rows", type=int, default=15_000)
    parser.add_argument("--lbfgs-iter", type=int, default=10)
    args = parser.parse_args()

    import dask.array as da
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    import mlpnet
    from mlpnet.distributed import ShardedObjective
    from mlpnet.optim.base import as_objective

    X, y = synthetic(args.rows)
    net = mlpnet.Network([784, 200, 10], activation="relu", seed=0)
    loss = "softmax_cross_entropy"
    local = net.objective(X, y, loss)
    theta = net.params.copy()
    nbytes = X.nbytes + y.nbytes
    cpu = next((ln.split(":")[1].strip() for ln in _cpuinfo() if ln.startswith("model name")), "")
    print(
        f"machine: {cpu} {os.cpu_count()} cores; {environment()}; load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    print(
        f"{args.rows} rows ({nbytes / 1e6:.0f} MB) in blocks of {args.block_rows}; "
        f"θ: {theta.size} float32 ({theta.nbytes / 1e6:.2f} MB)"
    )
    t_default = median_time(lambda: local(theta), args.repeats)
    with threadpool_limits(1):
        t_one = median_time(lambda: local(theta), args.repeats)
    print(
        f"in process, J and ∇J: {t_default * 1e3:.1f} ms (default BLAS threads), "
        f"{t_one * 1e3:.1f} ms (1 thread) = {t_one / args.rows * 1e9:.0f} ns per row"
    )

    counted = {"n": 0}

    def counting(th):
        counted["n"] += 1
        return local(th)

    fresh = net.copy()
    result = mlpnet.LBFGS().run(fresh.params, as_objective(counting, local.value), args.lbfgs_iter)
    print(
        f"L-BFGS: {result.nfev} evaluations in {result.nit} iterations "
        f"({result.nfev / max(result.nit, 1):.2f} per iteration)"
    )

    tiny = mlpnet.Network([2, 2, 1], seed=0)
    Xt, yt = np.ones((64, 2)), np.zeros(64)
    for workers in (1, 2):
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            Xd = da.from_array(X, chunks=(args.block_rows, 784))
            with ShardedObjective(net, Xd, y, loss, client=client) as sharded, threadpool_limits(1):
                t_here, t = paired_times(lambda: local(theta), lambda: sharded(theta), args.repeats)
                tv = median_time(lambda: sharded.value(theta), args.repeats)
            print(
                f"{workers} worker(s): J and ∇J {t * 1e3:.1f} ms against {t_here * 1e3:.1f} ms in "
                f"process (1 thread, timed alternately): {(t - t_here) * 1e3:+.1f} ms, "
                f"{t / t_here:.2f} ×; J alone {tv * 1e3:.1f} ms"
            )
            for blocks in (1, 64):
                Xs = da.from_array(Xt[: 4 * blocks], chunks=(4, 2))
                with ShardedObjective(tiny, Xs, yt[: 4 * blocks], "half_squared_error",
                                      client=client) as small:  # fmt: skip
                    t = median_time(lambda s=small: s(tiny.params), args.repeats)
                print(f"  latency, empty evaluation in {blocks} block(s): {t * 1e3:.2f} ms")
            for mb in (8, 64):
                A = np.ones(mb * 2**20 // 8)

                def round_trip(A=A):
                    client.scatter(A, hash=False).result()

                t = median_time(round_trip, max(3, args.repeats // 2))
                print(
                    f"  client → worker → client, {mb} MB: {t * 1e3:.0f} ms = "
                    f"{2 * A.nbytes / t / 1e9:.2f} GB/s"
                )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
