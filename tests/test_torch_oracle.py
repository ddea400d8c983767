"""PyTorch's autograd as an independent oracle (skipped when torch is not installed)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlpnet

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACT = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softsign": F.softsign,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_loss(name, out, Y):
    if name == "squared_error":
        return ((out - Y) ** 2).sum(1).mean()
    if name == "half_squared_error":
        return 0.5 * ((out - Y) ** 2).sum(1).mean()
    if name == "binary_cross_entropy":
        return -(Y * torch.log(out) + (1 - Y) * torch.log(1 - out)).sum(1).mean()
    if name == "softmax_cross_entropy":
        return F.cross_entropy(out, Y)
    return -torch.log(out[torch.arange(len(Y)), Y]).mean()  # cross_entropy on softmax outputs


CASES = [
    ("half_squared_error", "tanh"),
    ("squared_error", "identity"),
    ("squared_error", "softmax"),
    ("binary_cross_entropy", "sigmoid"),
    ("softmax_cross_entropy", "identity"),
    ("cross_entropy", "softmax"),
]


@given(
    sizes=st.lists(st.integers(2, 6), min_size=2, max_size=5),
    act=st.sampled_from(["tanh", "sigmoid", "softsign", "relu", "leaky_relu"]),
    case=st.sampled_from(CASES),
    seed=st.integers(0, 2**31 - 1),
)
def test_loss_gradient_and_jacobian_agree_with_torch(sizes, act, case, seed):
    loss, out = case
    net = mlpnet.Network(sizes, activation=act, output_activation=out, seed=seed, dtype="float64")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((7, sizes[0]))
    if loss in ("softmax_cross_entropy", "cross_entropy"):
        Y = rng.integers(0, sizes[-1], 7)
        Yt = torch.from_numpy(Y)
    else:
        Y = rng.random((7, sizes[-1]))
        Yt = torch.from_numpy(Y)

    params = [torch.tensor(np.array(a), requires_grad=True) for l in net.layers for a in (l.W, l.b)]

    def f(x):
        q = x
        for i in range(len(net.layers)):
            psi = TORCH_ACT[act if i < len(net.layers) - 1 else out]
            q = psi(q @ params[2 * i].T + params[2 * i + 1])
        return q

    J_t = torch_loss(loss, f(torch.from_numpy(X)), Yt)
    J_t.backward()
    g_t = np.concatenate([p.grad.numpy().ravel() for p in params])
    J, g = net.loss_and_gradient(X, Y, loss)
    assert J == pytest.approx(J_t.item(), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(g, g_t, rtol=1e-8, atol=1e-12)
    jac_t = torch.autograd.functional.jacobian(lambda x: f(x[None])[0], torch.from_numpy(X[0]))
    np.testing.assert_allclose(mlpnet.jacobian(net, X[0]), jac_t.numpy(), rtol=1e-8, atol=1e-12)
