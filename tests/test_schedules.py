import math
import pickle

import numpy as np
import pytest

from mlpnet import schedules


def test_inverse_time_is_robbins_monro_step():
    sched = schedules.inverse_time(0.5)
    assert [sched(k) for k in range(4)] == [0.5, 0.25, 0.5 / 3, 0.125]


@pytest.mark.parametrize(
    ("sched", "k", "expected"),
    [
        (schedules.constant(0.3), 1000, 0.3),
        (schedules.invscaling(1.0), 3, 0.5),  # 1 / (3 + 1)^0.5
        (schedules.invscaling(2.0, power=1.0), 4, 0.4),
        (schedules.invscaling(2.0, power=0.0), 4, 2.0),
        (schedules.step(1.0, 0.5, every=10), 9, 1.0),
        (schedules.step(1.0, 0.5, every=10), 10, 0.5),
        (schedules.step(1.0, 0.5, every=10), 25, 0.25),
        (schedules.cosine(1.0, total_steps=10), 0, 1.0),
        (schedules.cosine(1.0, total_steps=10), 5, 0.5),
        (schedules.cosine(1.0, total_steps=10, lr_min=0.1), 10, 0.1),
        (schedules.cosine(1.0, total_steps=10, lr_min=0.1), 500, 0.1),
    ],
)
def test_schedule_values(sched, k, expected):
    assert sched(k) == pytest.approx(expected, rel=1e-12)


def test_cosine_decreases_monotonically_to_lr_min():
    sched = schedules.cosine(0.2, total_steps=50, lr_min=0.01)
    values = np.array([sched(k) for k in range(60)])
    assert np.all(np.diff(values) <= 0)
    assert values[-1] == pytest.approx(0.01)


def test_schedules_pickle():
    for sched in (schedules.inverse_time(0.1), schedules.cosine(1.0, 5)):
        assert pickle.loads(pickle.dumps(sched))(3) == sched(3)  # noqa: S301 - our own bytes


def test_as_schedule():
    assert schedules.as_schedule(0.1)(7) == 0.1
    custom = lambda k: 1.0 / math.sqrt(k + 1)  # noqa: E731
    assert schedules.as_schedule(custom) is custom
    with pytest.raises(ValueError, match="lr must be a positive number or a schedule"):
        schedules.as_schedule("fast")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: schedules.constant(-1), "lr0 must be positive, got -1"),
        (lambda: schedules.inverse_time(0), "lr0 must be positive, got 0"),
        (lambda: schedules.constant(float("nan")), "lr0 must be positive, got nan"),
        (lambda: schedules.constant(math.inf), "lr0 must be finite, got inf"),
        (lambda: schedules.invscaling(1.0, power=-0.5), r"power must be in \[0, 10\), got -0.5"),
        (lambda: schedules.step(1.0, 1.5, 10), r"factor must be in \(0, 1\], got 1.5"),
        (lambda: schedules.step(1.0, 0.5, 0), "every must be a positive integer, got 0"),
        (lambda: schedules.cosine(1.0, 2.5), "total_steps must be a positive integer, got 2.5"),
        (lambda: schedules.cosine(1.0, 10, lr_min=2.0), r"lr_min must be in \[0, 1\), got 2.0"),
    ],
)
def test_bad_parameters_are_refused_quoting_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()
