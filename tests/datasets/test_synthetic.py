"""The notes' small problems: exact values, shapes, seeds."""

import numpy as np
import pytest

from mlpnet.datasets import CURVES, curve, four_points, two_class, xor
from mlpnet.datasets.synthetic import TWO_CLASS_MEANS


def test_xor_is_the_truth_table():
    X, Y = xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(Y, [[0], [1], [1], [0]])
    assert X.dtype == Y.dtype == np.float64


@pytest.mark.parametrize(
    ("name", "f"),
    [
        ("square", lambda x: x**2),
        ("sin", lambda x: np.sin(np.pi * x)),
        ("abs", np.abs),
        ("heaviside", lambda x: (x >= 0).astype(float)),
    ],
)
def test_curve_values_and_shapes(name, f):
    X, Y = curve(name, n=40, seed=3)
    assert X.shape == Y.shape == (40, 1)
    assert np.all((X > -1) & (X < 1)) and np.all(np.diff(X[:, 0]) >= 0)
    np.testing.assert_allclose(Y, f(X))


def test_heaviside_of_zero_is_one():
    np.testing.assert_array_equal(CURVES["heaviside"](np.array([-1e-12, 0.0, 2.0])), [0, 1, 1])


def test_curve_seed_fixes_the_sample():
    np.testing.assert_array_equal(curve("sin", seed=1)[0], curve("sin", seed=1)[0])
    assert not np.array_equal(curve("sin", seed=1)[0], curve("sin", seed=2)[0])
    assert curve("abs")[0].shape == (50, 1)


def test_unknown_curve_lists_choices():
    with pytest.raises(ValueError, match="'square', 'sin', 'abs', 'heaviside'"):
        curve("cube")


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_counts(n):
    with pytest.raises(ValueError, match="n must be an integer"):
        curve("sin", n=n)


def test_two_class_shapes_balance_and_means():
    X, y = two_class(n=4001, seed=0)
    assert X.shape == (4001, 2) and y.shape == (4001,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [2000, 2001])
    for c in (0, 1):
        np.testing.assert_allclose(X[y == c].mean(axis=0), TWO_CLASS_MEANS[c], atol=0.08)
    assert 0 < y[:20].sum() < 20  # shuffled, not sorted by class


def test_two_class_is_deterministic_per_seed_and_overlapping():
    X1, y1 = two_class(seed=5)
    X2, y2 = two_class(seed=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    # the clouds overlap: the best line through the means misclassifies some points
    X, y = two_class(n=2000, seed=1)
    side = (X - TWO_CLASS_MEANS.mean(axis=0)) @ (TWO_CLASS_MEANS[1] - TWO_CLASS_MEANS[0]) > 0
    assert 0.02 < np.mean(side != y) < 0.3
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        two_class(n=1)


def test_four_points():
    """The notes' D = {((−3,−3),1), ((−2,−2),1), ((4,4),0), ((2,−5),0)}, as API.md states it."""
    X, y = four_points()
    assert X.shape == (4, 2) and y.shape == (4,)
    np.testing.assert_array_equal(X, [[-3, -3], [-2, -2], [4, 4], [2, -5]])
    np.testing.assert_array_equal(y, [1, 1, 0, 0])
    w = np.array([-1.0, 0.0])  # separable by a unit without bias: w·x > 0 exactly on class 1
    np.testing.assert_array_equal(X @ w > 0, y == 1)
