"""Bad input: a ValueError naming the problem, before any arithmetic runs."""

import numpy as np
import pytest

import mlpnet


@pytest.fixture
def net():
    return mlpnet.Network([784, 20, 10], seed=0)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((5, 783)), "expected 784 features, got 783"),
        (np.zeros(783), "expected 784 features, got 783"),
        (np.zeros((0, 784)), "empty"),
        (np.zeros((2, 3, 784)), "2-D"),
        (np.array([["a"] * 784]), "numeric"),
    ],
)
def test_bad_X(net, X, message):
    with pytest.raises(ValueError, match=message):
        net.predict(X)
    with pytest.raises(ValueError, match=message):
        net.loss_and_gradient(
            X, np.zeros(len(X) if X.ndim > 1 else 1, int), "softmax_cross_entropy"
        )


def test_nan_and_inf_counted(net):
    X = np.zeros((4, 784))
    X[0, :3] = np.nan
    X[1, 5] = np.inf
    with pytest.raises(ValueError, match="X has 3 NaN values and 1 infinite value"):
        net.predict(X)
    Y = np.zeros((4, 10))
    Y[2, 2] = np.nan
    with pytest.raises(ValueError, match="Y has 1 NaN value"):
        net.loss_and_gradient(np.zeros((4, 784)), Y, "softmax_cross_entropy")


def test_mismatched_lengths(net):
    with pytest.raises(ValueError, match="X has 5 samples but Y has 4"):
        net.loss_and_gradient(np.zeros((5, 784)), np.zeros(4, int), "softmax_cross_entropy")


def test_labels_outside_classes(net):
    with pytest.raises(ValueError, match=r"labels must be integers in 0..9.*got 10 \(and 1 more"):
        net.loss_and_gradient(np.zeros((3, 784)), [1, 10, -1], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="non-integral"):
        net.loss_and_gradient(np.zeros((2, 784)), [0.5, 1], "softmax_cross_entropy")


def test_wrong_target_columns(net):
    with pytest.raises(
        ValueError, match="expected targets with 10 columns .one per output., got shape"
    ):
        net.loss_and_gradient(np.zeros((3, 784)), np.zeros((3, 3)), "squared_error")


def test_loss_that_does_not_fit_the_output_layer(net):
    for loss, want in [("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")]:
        with pytest.raises(
            ValueError,
            match=f"loss '{loss}' needs a '{want}' output layer, but the output activation is "
            "'identity'",
        ):
            net.loss_and_gradient(np.zeros((1, 784)), np.zeros((1, 10)), loss)
    soft = mlpnet.Network([2, 3], output_activation="softmax")
    with pytest.raises(ValueError, match="'softmax_cross_entropy' needs a 'identity'.*'softmax'"):
        soft.loss_and_gradient(np.zeros((1, 2)), [0], "softmax_cross_entropy")


def test_unknown_loss_and_bce_targets():
    net = mlpnet.Network([2, 1], output_activation="sigmoid")
    with pytest.raises(ValueError, match="unknown loss 'mse'; choose one of"):
        net.loss_and_gradient(np.zeros((1, 2)), [0], "mse")
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]; 1 do not"):
        net.loss_and_gradient(np.zeros((2, 2)), [0, 2], "binary_cross_entropy")


def test_bad_input_leaves_theta_untouched(net):
    before = net.params.copy()
    with pytest.raises(ValueError):
        net.loss_and_gradient(np.full((2, 784), np.nan), [0, 1], "softmax_cross_entropy")
    np.testing.assert_array_equal(net.params, before)


def test_bad_activation_object():
    with pytest.raises(ValueError, match="derivative"):
        mlpnet.Dense(2, 2, activation=object())
    with pytest.raises(ValueError, match="positive integer"):
        mlpnet.Dense(0, 2)
