"""BLAS threads: the "auto" policy, explicit counts, fit(threads=…), no threadpoolctl."""

import warnings

import numpy as np
import pytest

import mlpnet
from mlpnet import _threads
from mlpnet._threads import PARALLEL_WORK, blas_threads, check_threads, choose_threads


@pytest.mark.parametrize(
    ("given", "expected"),
    [("auto", "auto"), (" AUTO ", "auto"), (None, None), ("none", None), (3, 3), ("2", 2)],
)
def test_check_threads_accepts(given, expected):
    assert check_threads(given) == expected


@pytest.mark.parametrize("bad", [0, -1, "0", "many", 1.5, True])
def test_check_threads_refuses_naming_the_value(bad):
    with pytest.raises(ValueError, match="threads must be"):
        check_threads(bad)


def test_auto_takes_one_thread_for_small_products(monkeypatch):
    monkeypatch.delenv("MLPNET_THREADS", raising=False)
    monkeypatch.setattr(_threads, "_busy_elsewhere", lambda *_: pytest.fail("no probe"))
    # batch 32 on 784-200-10: 32 × 159,010 multiply-adds per forward pass, below the bar
    assert choose_threads("auto", 32, 159_010) == 1
    assert choose_threads("auto", PARALLEL_WORK // 10 - 1, 10) == 1


def test_auto_takes_the_free_cores_for_large_products(monkeypatch):
    monkeypatch.delenv("MLPNET_THREADS", raising=False)
    monkeypatch.setattr(_threads, "_blas_default", lambda: 4)
    monkeypatch.setattr(_threads, "_cores", lambda: 4)
    rows = PARALLEL_WORK // 10
    for busy, expected in [(0, 4), (1, 3), (3, 1), (7, 1)]:
        monkeypatch.setattr(_threads, "_busy_elsewhere", lambda samples=5, busy=busy: busy)
        assert choose_threads("auto", rows, 10) == expected
    monkeypatch.setattr(_threads, "_busy_elsewhere", lambda samples=5: 0)
    monkeypatch.setattr(_threads, "_blas_default", lambda: 2)  # never above the BLAS's setting
    assert choose_threads("auto", rows, 10) == 2


def test_explicit_counts_and_the_environment(monkeypatch):
    monkeypatch.setenv("MLPNET_THREADS", "3")
    assert choose_threads("auto", 1, 1) == 3  # the default follows MLPNET_THREADS
    assert choose_threads(2, 1, 1) == 2  # an explicit argument wins
    assert choose_threads(None, 1, 1) is None
    monkeypatch.setenv("MLPNET_THREADS", "lots")
    with pytest.raises(ValueError, match="'lots'"):
        choose_threads("auto", 1, 1)


def test_the_busy_probe_counts_other_processes_only():
    busy = _threads._busy_elsewhere()
    assert isinstance(busy, int) and busy >= 0


def test_blas_threads_limits_the_blas_inside_the_block_only():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="limits are set with threadpoolctl")

    def blas_counts():
        infos = threadpoolctl.threadpool_info()
        return {i["num_threads"] for i in infos if i["user_api"] == "blas"}

    before = blas_counts()
    with blas_threads(1) as limit:
        assert limit.count == 1 and blas_counts() == {1}
    assert blas_counts() == before


def test_auto_decides_again_when_the_load_changes(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="limits are set with threadpoolctl")
    monkeypatch.delenv("MLPNET_THREADS", raising=False)
    monkeypatch.setattr(_threads, "_blas_default", lambda: 2)
    monkeypatch.setattr(_threads, "_cores", lambda: 2)
    busy = [0]
    monkeypatch.setattr(_threads, "_busy_elsewhere", lambda samples=5: busy[0])

    def numpy_blas():
        infos = threadpoolctl.threadpool_info()
        return {i["num_threads"] for i in infos if i["user_api"] == "blas"}

    before = numpy_blas()
    with blas_threads("auto", 100, 159_010) as limit:  # batch 100 on 784-200-10: load matters
        assert limit.count == 2 and numpy_blas() == {2}
        busy[0] = 1  # another process starts
        limit.refresh()
        assert limit.count == 1 and numpy_blas() == {1}
        busy[0] = 0
        limit.refresh()
        assert limit.count == 2
    assert numpy_blas() == before
    with blas_threads(1) as fixed:
        busy[0] = 0
        fixed.refresh()  # a fixed choice never changes
        assert fixed.count == 1


def test_fit_chooses_again_before_every_epoch(monkeypatch):
    calls = []
    monkeypatch.setattr(_threads.blas_threads, "refresh", lambda self: calls.append(1))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 2, 30)
    net = mlpnet.Network([3, 4, 2], seed=0)
    net.fit(X, y, loss="softmax_cross_entropy", batch_size=10, epochs=4)
    assert len(calls) == 4


def test_without_threadpoolctl_an_explicit_count_warns_once_and_auto_is_quiet(monkeypatch):
    monkeypatch.setattr(_threads, "_controller", False)  # as if the import had failed
    monkeypatch.setattr(_threads, "_warned", False)
    monkeypatch.delenv("MLPNET_THREADS", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with blas_threads("auto", 10**9, 10) as limit:  # large: would ask the BLAS; quietly not
            assert limit.count is None
    with pytest.warns(UserWarning, match="pip install threadpoolctl"):
        with blas_threads(2):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with blas_threads(2):
            pass


@pytest.mark.parametrize("threads", [1, 2, "auto", None])
def test_fit_gives_the_same_training_whatever_the_threads(threads):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((300, 20)), rng.integers(0, 3, 300)
    reference = mlpnet.Network([20, 16, 3], seed=0, dtype="float64")
    reference.fit(X, y, loss="softmax_cross_entropy", batch_size=50, epochs=3, seed=0, threads=1)
    net = mlpnet.Network([20, 16, 3], seed=0, dtype="float64")
    net.fit(X, y, loss="softmax_cross_entropy", batch_size=50, epochs=3, seed=0, threads=threads)
    # a product split among threads may sum in another order: equal to rounding, not bit for bit
    np.testing.assert_allclose(net.params, reference.params, rtol=1e-12, atol=1e-12)


def test_fit_refuses_bad_threads_before_training():
    net = mlpnet.Network([2, 2], seed=0)
    with pytest.raises(ValueError, match="threads must be"):
        net.fit(np.zeros((4, 2)), np.zeros((4, 2)), loss="half_squared_error", threads=0)
