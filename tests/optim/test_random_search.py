"""Random search: values of J only, a step kept only when J falls, seeded proposals."""

import numpy as np

from mlpnet.optim import RandomSearch


class ValuesOnly:
    def __init__(self):
        self.values = 0

    def __call__(self, theta):
        raise AssertionError("random search must not ask for gradients")

    def value(self, theta):
        self.values += 1
        return float(np.sum((theta - 3.0) ** 2))


def run(optimizer, steps=200):
    objective = ValuesOnly()
    theta = np.zeros(4)
    losses = [objective.value(theta)]
    for _ in range(steps):
        optimizer.step(theta, losses[-1], None, objective)
        losses.append(objective.value(theta))
    return theta, losses


def test_loss_never_rises_and_falls_overall():
    theta, losses = run(RandomSearch(scale=0.3, seed=0))
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 0.1 * losses[0]


def test_proposal_is_kept_only_if_better():
    optimizer = RandomSearch(scale=0.5, seed=3)
    objective = ValuesOnly()
    theta = np.full(4, 3.0)  # the minimum: nothing can be better
    optimizer.step(theta, objective.value(theta), None, objective)
    assert theta.tolist() == [3.0] * 4
    assert optimizer.state.k == 1 and optimizer.state.accepted == 0


def test_same_seed_same_path_and_reset_replays_it():
    a, _ = run(RandomSearch(0.3, seed=42))
    b, _ = run(RandomSearch(0.3, seed=42))
    np.testing.assert_array_equal(a, b)
    optimizer = RandomSearch(0.3, seed=42)
    run(optimizer, 10)
    optimizer.reset()
    c, _ = run(optimizer)
    np.testing.assert_array_equal(a, c)
    assert optimizer.state.k == 200


def test_float32():
    theta = np.zeros(3, dtype=np.float32)
    RandomSearch(seed=0).step(theta, 27.0, None, ValuesOnly())
    assert theta.dtype == np.float32
