"""Network construction, the θ layout of eq. (6.17) and its views, initialisers, dtypes."""

import numpy as np
import pytest

import mlpnet


def test_params_layout_is_eq_6_17():
    net = mlpnet.Network([3, 2, 1], seed=0, dtype="float64")
    W1, b1 = net.layers[0].W, net.layers[0].b
    W2, b2 = net.layers[1].W, net.layers[1].b
    assert W1.shape == (2, 3) and b1.shape == (2,) and W2.shape == (1, 2) and b2.shape == (1,)
    expected = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])  # row-major vec(W)
    np.testing.assert_array_equal(net.params, expected)
    assert net.n_params == 2 * 4 + 1 * 3 == net.params.size
    assert net.params.flags.c_contiguous and net.params.ndim == 1
    assert net.sizes == [3, 2, 1]


def test_views_write_through_both_ways():
    net = mlpnet.Network([3, 2, 1], seed=0)
    layer = net.layers[0]
    layer.W[1, 2] = 7.0
    assert net.params[1 * 3 + 2] == 7.0
    layer.b[...] = [-1, -2]
    assert net.params[6:8].tolist() == [-1, -2]
    net.params[8] = 5.0  # first entry of W2
    assert net.layers[1].W[0, 0] == 5.0
    net.params = np.arange(net.n_params)  # assignment copies in, views survive
    assert layer.W.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.shares_memory(layer.W, net.params) and np.shares_memory(net.layers[1].b, net.params)
    layer.W = np.ones((2, 3))
    assert net.params[:6].tolist() == [1] * 6
    with pytest.raises(ValueError, match="expected 11 parameters"):
        net.params = np.zeros(10)
    with pytest.raises(ValueError, match=r"W must have shape \(2, 3\)"):
        layer.W = np.zeros((3, 2))
    with pytest.raises(ValueError, match="NaN"):
        net.params = np.full(11, np.nan)
    assert net.params[:6].tolist() == [1] * 6  # the refused assignment changed nothing


def test_same_seed_same_theta_and_no_global_state():
    a = mlpnet.Network([5, 4, 3], seed=42)
    np.random.seed(0)  # noqa: NPY002 - proves the global state is not used
    b = mlpnet.Network([5, 4, 3], seed=42)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, mlpnet.Network([5, 4, 3], seed=43).params)


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float32, np.float64])
def test_dtype(dtype):
    net = mlpnet.Network([4, 3, 2], seed=0, dtype=dtype)
    assert net.params.dtype == np.dtype(dtype) == net.dtype
    out = net.predict(np.ones((2, 4)))
    assert out.dtype == np.dtype(dtype)
    assert net.loss_and_gradient(np.ones((2, 4)), np.ones((2, 2)), "squared_error")[
        1
    ].dtype == np.dtype(dtype)


def test_bad_dtype_and_layers():
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        mlpnet.Network([2, 1], dtype="int32")
    with pytest.raises(ValueError, match="at least two sizes"):
        mlpnet.Network([3])
    with pytest.raises(ValueError, match="positive"):
        mlpnet.Network([3, 0, 1])
    with pytest.raises(ValueError, match="layer 2 expects 4 inputs but layer 1 gives 3"):
        mlpnet.Network([mlpnet.Dense(2, 3), mlpnet.Dense(4, 1)])
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*relu"):
        mlpnet.Network([2, 2, 1], activation="rleu")
    with pytest.raises(ValueError, match="softmax is for the output layer only"):
        mlpnet.Network([2, 2, 1], activation="softmax")
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        mlpnet.Network([2, 1], init="glorot")


def test_initialisers_have_their_stated_distributions():
    n_in, n_out = 400, 300
    rng = np.random.default_rng(0)
    draw = mlpnet.initializers.INITIALIZERS
    W = draw["he"](rng, (n_out, n_in), np.float64)
    assert W.std() == pytest.approx(np.sqrt(2 / n_in), rel=0.02)
    W = draw["xavier"](rng, (n_out, n_in), np.float64)
    a = np.sqrt(6 / (n_in + n_out))
    assert np.abs(W).max() <= a and W.std() == pytest.approx(a / np.sqrt(3), rel=0.02)
    assert draw["normal"](rng, (n_out, n_in), np.float64).std() == pytest.approx(1, rel=0.02)
    U = draw["uniform"](rng, (n_out, n_in), np.float64)
    assert U.min() >= 0 and U.max() < 1 and U.mean() == pytest.approx(0.5, abs=0.01)
    assert draw["small"](rng, (n_out, n_in), np.float64).std() == pytest.approx(0.01, rel=0.02)
    assert not draw["zeros"](rng, (n_out, n_in), np.float64).any()


def test_default_init_and_biases():
    relu = mlpnet.Network([300, 200, 10], activation="relu", seed=0, dtype="float64")
    assert relu.layers[0].W.std() == pytest.approx(np.sqrt(2 / 300), rel=0.03)  # he
    assert not relu.layers[0].b.any()
    tanh = mlpnet.Network([300, 200, 10], activation="tanh", seed=0, dtype="float64")
    assert np.abs(tanh.layers[0].W).max() <= np.sqrt(6 / 500)  # xavier
    drawn = mlpnet.Network([3, 50, 2], init="normal", seed=0)
    assert drawn.layers[0].b.std() > 0.5  # the notes draw every θ_i


def test_callable_initialiser_and_per_layer_init():
    def constant(rng, shape, dtype):
        return np.full(shape, 0.5, dtype=dtype)

    net = mlpnet.Network(
        [mlpnet.Dense(2, 3, "tanh", init=constant), mlpnet.Dense(3, 1, init="zeros")]
    )
    assert (net.layers[0].W == 0.5).all() and not net.layers[1].W.any()


def test_dense_layers_keep_given_parameters_and_are_views_after():
    d = mlpnet.Dense(2, 2, "tanh")
    d.W = [[1, 2], [3, 4]]
    net = mlpnet.Network([d, mlpnet.Dense(2, 1)], seed=0)
    assert net.params[:4].tolist() == [1, 2, 3, 4]
    assert net.layers[0] is d and np.shares_memory(d.W, net.params)
    assert net.layers[1].W.any()  # the other layer was initialised


def test_forward_single_sample_and_call_aliases():
    net = mlpnet.Network([3, 4, 2], seed=0)
    X = np.arange(6.0).reshape(2, 3)
    out = net.forward(X)
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(net(X), out)
    np.testing.assert_array_equal(net.predict(X), out)
    one = net.forward(X[1])
    assert one.shape == (2,)
    np.testing.assert_allclose(one, out[1], rtol=1e-6)


def test_copy_is_independent_and_summary():
    net = mlpnet.Network([4, 3, 2], activation="tanh", seed=0)
    twin = net.copy()
    np.testing.assert_array_equal(twin.params, net.params)
    twin.params[0] += 1
    assert twin.params[0] != net.params[0]
    text = net.summary()
    assert "tanh" in text and "identity" in text and f"{net.n_params} parameters" in text
    assert "3 × 4" in text
    assert "Network(sizes=[4, 3, 2]" in repr(net)


def test_objective_at_other_theta_does_not_touch_the_network():
    net = mlpnet.Network([2, 3, 1], activation="tanh", seed=0, dtype="float64")
    X, Y = np.ones((4, 2)), np.zeros((4, 1))
    before = net.params.copy()
    objective = net.objective(X, Y, "squared_error")
    other = before + 0.1
    J_other, g_other = objective(other)
    np.testing.assert_array_equal(net.params, before)
    net.params = other
    J, g = net.loss_and_gradient(X, Y, "squared_error")
    assert J == J_other
    np.testing.assert_array_equal(g, g_other)
    assert objective.value(other) == J


def test_pickle_keeps_layers_as_views_into_theta():
    import pickle

    net = mlpnet.Network([3, 4, 2], activation="tanh", seed=0)
    twin = pickle.loads(pickle.dumps(net))  # noqa: S301 - our own bytes
    np.testing.assert_array_equal(twin.params, net.params)
    assert np.shares_memory(twin.layers[0].W, twin.params)
    twin.params[0] += 1.0
    assert twin.layers[0].W[0, 0] == net.layers[0].W[0, 0] + 1.0
    X = np.ones((2, 3))
    J, _ = twin.loss_and_gradient(X, np.zeros((2, 2)), "squared_error")
    assert J == twin.loss(X, np.zeros((2, 2)), "squared_error")
