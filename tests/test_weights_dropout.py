"""The engine's weighted mean loss and inverted dropout: exact gradients, repeated rows, seeding."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlpnet
from mlpnet.layers import Dense


def central_differences(objective, theta, eps=1e-6):
    """ĝ_i = (J(θ + εe_i) − J(θ − εe_i)) / 2ε on a float64 objective (masks held fixed)."""
    g = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = eps
        g[i] = (objective.value(theta + e) - objective.value(theta - e)) / (2 * eps)
    return g


def relative_error(g, h):
    return np.max(np.abs(g - h)) / max(np.max(np.abs(g)), np.max(np.abs(h)), 1e-12)


# (output activation, loss, targets of n rows and k outputs)
PAIRS = {
    "half_squared_error": ("tanh", lambda rng, n, k: rng.standard_normal((n, k))),
    "softmax_cross_entropy": ("identity", lambda rng, n, k: rng.integers(0, k, n)),
    "binary_cross_entropy": ("sigmoid", lambda rng, n, k: rng.integers(0, 2, (n, k)) * 1.0),
}


@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    act=st.sampled_from(["tanh", "sigmoid", "softsign", "identity"]),
    loss=st.sampled_from(sorted(PAIRS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_weighted_gradient_agrees_with_central_differences(sizes, act, loss, seed):
    out_act, targets = PAIRS[loss]
    net = mlpnet.Network(
        sizes, activation=act, output_activation=out_act, seed=seed, dtype="float64"
    )
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((6, sizes[0])), targets(rng, 6, sizes[-1])
    w = rng.integers(0, 4, 6).astype(float)
    w[0] += 0.5  # never all zero
    J, g = net.loss_and_gradient(X, Y, loss, sample_weight=w)
    objective = net.objective(X, Y, loss, sample_weight=w)
    assert relative_error(g, central_differences(objective, net.params.copy())) < 1e-6
    # J itself is Σ w_i ℓ_i / Σ w_i
    ell = np.array([net.loss(X[i : i + 1], Y[i : i + 1], loss) for i in range(6)])
    assert J == pytest.approx(np.dot(w, ell) / w.sum(), rel=1e-12)


@given(
    sizes=st.lists(st.integers(1, 5), min_size=3, max_size=5),
    act=st.sampled_from(["tanh", "sigmoid", "softsign", "identity"]),
    p=st.floats(0.05, 0.8),
    seed=st.integers(0, 2**32 - 1),
)
def test_dropout_gradient_of_the_sampled_subnetwork_is_exact(sizes, act, p, seed):
    net = mlpnet.Network(sizes, activation=act, seed=seed, dtype="float64", dropout=p)
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((5, sizes[0])), rng.standard_normal((5, sizes[-1]))
    # biases ≠ 0: a dropped unit would otherwise put the next Z exactly at 0, where softsign's
    # second derivative jumps and central differences lose their O(ε²) accuracy
    net.params = rng.standard_normal(net.n_params)
    masks = net.dropout_masks(5, rng)
    assert masks[-1] is None and all(
        M.shape == (5, n) for M, n in zip(masks, sizes[1:-1], strict=False)
    )
    w = rng.uniform(0.1, 2.0, 5)
    _, g = net.loss_and_gradient(X, Y, "half_squared_error", sample_weight=w, masks=masks)
    objective = net.objective(X, Y, "half_squared_error", sample_weight=w, masks=masks)
    assert relative_error(g, central_differences(objective, net.params.copy())) < 1e-6


def test_relu_dropout_gradient_off_the_kink():
    # ReLU: the inputs keep every pre-activation away from 0, where ψ' jumps
    net = mlpnet.Network([3, 6, 5, 2], activation="relu", seed=1, dtype="float64", dropout=0.5)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    net.params = rng.standard_normal(net.n_params)  # biases ≠ 0: a dropped row's Z is not 0
    masks = net.dropout_masks(8, rng)
    objective = net.objective(X, Y, "softmax_cross_entropy", masks=masks)
    objective.value(net.params)
    cache = objective._kept[1]
    assert min(np.abs(Z).min() for Z in cache.Z[:-1]) > 1e-4
    _, g = net.loss_and_gradient(X, Y, "softmax_cross_entropy", masks=masks)
    objective = net.objective(X, Y, "softmax_cross_entropy", masks=masks)
    assert relative_error(g, central_differences(objective, net.params.copy())) < 1e-6


def test_masks_are_inverted_dropout_and_predict_never_drops():
    net = mlpnet.Network([4, 50, 40, 3], activation="tanh", seed=0, dropout=0.25)
    masks = net.dropout_masks(400, np.random.default_rng(0))
    for M in masks[:-1]:
        assert set(np.unique(M)) == {0.0, np.float32(1 / 0.75)}
        assert abs((M == 0).mean() - 0.25) < 0.02  # each unit dropped with probability p
        assert M.dtype == np.float32
    X = np.random.default_rng(1).standard_normal((7, 4))
    np.testing.assert_array_equal(net.predict(X), net.predict(X))  # deterministic
    # the masked forward pass is ψ(Z) ⊙ M layer by layer
    cache = net.objective(
        X,
        np.zeros((7, 3)),
        "half_squared_error",
        masks=[M[:7] if M is not None else None for M in masks],
    )
    cache.value(net.params)
    W1, b1 = net.layers[0].W, net.layers[0].b
    Q1 = np.tanh(X.astype(np.float32) @ W1.T + b1) * masks[0][:7]
    W2, b2 = net.layers[1].W, net.layers[1].b
    Q2 = np.tanh(Q1 @ W2.T + b2) * masks[1][:7]
    expected = Q2 @ net.layers[2].W.T + net.layers[2].b
    np.testing.assert_allclose(cache.output, expected, rtol=1e-5, atol=1e-6)


def test_integer_weights_equal_repeated_rows():
    net = mlpnet.Network([3, 5, 4], activation="tanh", seed=2, dtype="float64")
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((9, 3)), rng.integers(0, 4, 9)
    w = np.array([0, 1, 2, 3, 1, 0, 4, 1, 2])
    J_w, g_w = net.loss_and_gradient(X, y, "softmax_cross_entropy", sample_weight=w)
    J_r, g_r = net.loss_and_gradient(X.repeat(w, axis=0), y.repeat(w), "softmax_cross_entropy")
    # the same sums in another order: equal to rounding
    assert J_w == pytest.approx(J_r, rel=1e-13)
    np.testing.assert_allclose(g_w, g_r, rtol=1e-12, atol=1e-15)
    # and so is full-batch training, step by step
    a, b = net.copy(), net.copy()
    a.fit(X, y, loss="softmax_cross_entropy", optimizer="armijo", epochs=5, sample_weight=w)
    b.fit(
        X.repeat(w, axis=0), y.repeat(w), loss="softmax_cross_entropy", optimizer="armijo", epochs=5
    )
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)


def test_unit_weights_change_nothing():
    net = mlpnet.Network([2, 3, 1], activation="sigmoid", seed=0, dtype="float64")
    X, y = mlpnet.datasets.xor()
    J, g = net.loss_and_gradient(X, y, "half_squared_error")
    J1, g1 = net.loss_and_gradient(X, y, "half_squared_error", sample_weight=np.full(4, 3.0))
    assert J1 == pytest.approx(J, rel=1e-14)
    np.testing.assert_allclose(g1, g, rtol=1e-13)


@pytest.mark.parametrize(
    "w, match",
    [
        ([1, 2], "shape"),
        ([1, -1, 1, 1], "negative"),
        ([0, 0, 0, 0], "zero for every row"),
        ([1, np.nan, 1, 1], "NaN"),
        (["a", "b", "c", "d"], "numeric"),
    ],
)
def test_bad_sample_weights_are_refused(w, match):
    net = mlpnet.Network([2, 3, 1], seed=0)
    X, y = mlpnet.datasets.xor()
    with pytest.raises(ValueError, match=match):
        net.loss_and_gradient(X, y, "half_squared_error", sample_weight=w)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, loss="half_squared_error", sample_weight=w)


def test_bad_dropout_is_refused():
    with pytest.raises(ValueError, match="0 <= p < 1"):
        mlpnet.Network([2, 3, 1], dropout=1.0)
    with pytest.raises(ValueError, match="0 <= p < 1"):
        Dense(2, 3, dropout=-0.1)
    with pytest.raises(ValueError, match="output layer"):
        mlpnet.Network([Dense(2, 3, "tanh"), Dense(3, 1, dropout=0.5)])
    net = mlpnet.Network([2, 3, 1], seed=0)
    X, y = mlpnet.datasets.xor()
    with pytest.raises(ValueError, match="0 <= p < 1"):
        net.fit(X, y, loss="half_squared_error", dropout=1.5)
    with pytest.raises(ValueError, match="LBFGS"):
        net.fit(X, y, loss="half_squared_error", optimizer="lbfgs", dropout=0.5)
    with pytest.raises(ValueError, match="mask 1 must have shape"):
        net.loss_and_gradient(X, y, "half_squared_error", masks=[np.ones((3, 3)), None])


def test_dropout_training_is_seeded_and_differs_from_none():
    X, y = mlpnet.datasets.two_class(n=200, seed=0)

    def train(rate=0.0, **kw):
        net = mlpnet.Network([2, 16, 2], activation="tanh", seed=0, dtype="float64", dropout=rate)
        net.fit(X, y, loss="softmax_cross_entropy", optimizer=mlpnet.SGD(0.1), batch_size=20,
                epochs=3, seed=5, **kw)  # fmt: skip
        return net.params

    np.testing.assert_array_equal(train(dropout=0.3), train(dropout=0.3))
    assert not np.allclose(train(dropout=0.3), train())
    assert not np.allclose(train(dropout=0.3), train(dropout=0.3, sample_weight=np.arange(200) % 3))
    np.testing.assert_array_equal(train(dropout=0.0), train())
    # the layers' own rate is what fit uses by default, and fit(dropout=0) switches it off
    np.testing.assert_array_equal(train(0.3), train(dropout=0.3))
    np.testing.assert_array_equal(train(0.3, dropout=0.0), train())


def test_full_batch_dropout_draws_a_new_mask_every_step():
    X, y = mlpnet.datasets.two_class(n=50, seed=0)
    net = mlpnet.Network([2, 8, 2], activation="tanh", seed=0, dtype="float64", dropout=0.5)
    h = net.fit(X, y, loss="softmax_cross_entropy", optimizer="armijo", epochs=6, seed=0)
    # a fixed mask would make Armijo's losses fall monotonically; fresh masks make them jump
    assert np.any(np.diff(h.loss) > 0)


def test_weighted_epoch_loss_and_validation():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((30, 2)), rng.standard_normal((30, 1))
    w = rng.uniform(0.0, 3.0, 30)
    net = mlpnet.Network([2, 4, 1], activation="tanh", seed=0, dtype="float64")
    start = net.params.copy()
    h = net.fit(
        X,
        Y,
        loss="half_squared_error",
        optimizer=mlpnet.SGD(0.0 + 1e-300),
        batch_size=7,
        shuffle=False,
        epochs=1,
        sample_weight=w,
        validation_data=(X, Y, w),
    )
    net.params = start  # a step of 1e-300 moves nothing: the epoch loss is J at θ_0
    J = net.loss(X, Y, "half_squared_error", sample_weight=w)
    assert h.loss[0] == pytest.approx(J, rel=1e-12)  # batches weighted by their mass Σw
    assert h.val_loss[0] == pytest.approx(J, rel=1e-12)


def test_a_generator_seed_continues_across_fits():
    X, y = mlpnet.datasets.two_class(n=120, seed=1)

    def net():
        return mlpnet.Network([2, 8, 2], activation="tanh", seed=0, dtype="float64", dropout=0.2)

    opt, a = mlpnet.Adam(0.01), net()
    rng = np.random.default_rng(3)
    for _ in range(2):
        a.fit(X, y, loss="softmax_cross_entropy", optimizer=opt, batch_size=16, epochs=3, seed=rng)
    b = net()
    b.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=mlpnet.Adam(0.01),
        batch_size=16,
        epochs=6,
        seed=np.random.default_rng(3),
    )
    np.testing.assert_array_equal(a.params, b.params)  # one process, one code path: same bits


def test_dropout_survives_save_load_and_copy(tmp_path):
    net = mlpnet.Network([3, 4, 4, 2], activation="tanh", seed=0, dropout=0.3)
    net.save(tmp_path / "net.npz")
    again = mlpnet.load(tmp_path / "net.npz")
    assert again.dropout_rates == [0.3, 0.3, 0.0] == net.copy().dropout_rates
    assert "dropout=0.3" in repr(net.layers[0])
