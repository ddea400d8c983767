"""ONNX export: the graph checks, and onnxruntime computes what mlpnet computes.

onnxruntime and mlpnet reach the same numbers through different kernels (its Gemm, exp and tanh
against NumPy's BLAS and ufuncs), so outputs are compared to 1e-5 (the contract's bound), never
exactly; labels, which are discrete, are compared exactly.
"""

import os
import sys
import warnings

import numpy as np
import pytest

import mlpnet
from mlpnet.activations import LeakyReLU

onnx = pytest.importorskip("onnx", reason="exporting needs the onnx package (mlpnet[onnx])")
ort = pytest.importorskip("onnxruntime", reason="the exported models are run by onnxruntime")

from mlpnet.onnx_export import to_onnx  # noqa: E402 (after the skips)

ACTIVATIONS = ["heaviside", "identity", "sigmoid", "tanh", "softsign", "relu", "leaky_relu"]
OPS = {
    "heaviside": ["GreaterOrEqual", "Cast"],
    "identity": [],
    "sigmoid": ["Sigmoid"],
    "tanh": ["Tanh"],
    "softsign": ["Softsign"],
    "relu": ["Relu"],
    "leaky_relu": ["LeakyRelu"],
    "softmax": ["Softmax"],
}
TOL = {"rtol": 1e-5, "atol": 1e-5}


def run(model, X):
    """Check `model` fully, run it in onnxruntime on X; the outputs by name."""
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X}), strict=True))


def data(n=40, d=4, seed=0, dtype=np.float64):
    """Rows of standard normals, the first row all zeros (so Z_1 = b_1 exactly)."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    X[0] = 0.0
    return X.astype(dtype)


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("output", ["identity", "sigmoid", "softmax", "same"])
def test_network_equals_forward_for_every_activation(act, output, dtype):
    output = act if output == "same" else output
    net = mlpnet.Network(
        [4, 7, 5, 3], activation=act, output_activation=output, seed=1, dtype=dtype
    )
    net.params = net.params + 0.1  # non-zero biases too
    model = to_onnx(net)
    ops = [node.op_type for node in model.graph.node]
    # one Gemm (transB=1) and ψ_l's operator(s) per layer; float64 softsign is built from Abs/Div
    if not (dtype == "float64" and "softsign" in (act, output)):
        assert ops == ["Gemm", *OPS[act]] * 2 + ["Gemm", *OPS[output]]
    gemms = [node for node in model.graph.node if node.op_type == "Gemm"]
    assert len(gemms) == 3 and all(
        onnx.helper.get_attribute_value(a) == 1 for g in gemms for a in g.attribute
    )
    X = data(dtype=dtype)
    Y = run(model, X)["Y"]
    assert Y.dtype == np.dtype(dtype) and Y.shape == (len(X), 3)
    np.testing.assert_allclose(Y, net.forward(X), **TOL)


def test_each_layer_exports_its_own_activation():
    acts = ["tanh", "leaky_relu", "heaviside", "sigmoid", "softmax"]
    sizes = [4, 6, 5, 4, 3, 3]
    layers = [mlpnet.Dense(i, o, a) for i, o, a in zip(sizes[:-1], sizes[1:], acts, strict=True)]
    net = mlpnet.Network(layers, seed=2, dtype="float32")
    model = to_onnx(net)
    expected = [op for a in acts for op in ["Gemm", *OPS[a]]]
    assert [node.op_type for node in model.graph.node] == expected
    X = data(dtype=np.float32)
    np.testing.assert_allclose(run(model, X)["Y"], net.forward(X), **TOL)


def test_input_and_output_are_typed_as_the_network():
    for dtype, elem in (("float32", onnx.TensorProto.FLOAT), ("float64", onnx.TensorProto.DOUBLE)):
        graph = to_onnx(mlpnet.Network([5, 2], dtype=dtype)).graph
        (x,), (y,) = graph.input, graph.output
        assert (x.name, y.name) == ("X", "Y")
        assert x.type.tensor_type.elem_type == elem == y.type.tensor_type.elem_type
        assert x.type.tensor_type.shape.dim[1].dim_value == 5
        assert y.type.tensor_type.shape.dim[1].dim_value == 2


def test_heaviside_is_one_at_zero_as_in_the_notes():
    net = mlpnet.Network([mlpnet.Dense(1, 1, activation="heaviside")], dtype="float64")
    net.params = [1.0, 0.0]  # H(x)
    X = np.array([[-1.0], [-1e-300], [0.0], [1e-300], [2.0]])
    assert run(to_onnx(net), X)["Y"].ravel().tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


def test_leaky_relu_keeps_its_slope():
    layers = [mlpnet.Dense(3, 4, activation=LeakyReLU(0.2)), mlpnet.Dense(4, 2)]
    net = mlpnet.Network(layers, seed=0)
    model = to_onnx(net)
    (leaky,) = [node for node in model.graph.node if node.op_type == "LeakyRelu"]
    assert onnx.helper.get_attribute_value(leaky.attribute[0]) == pytest.approx(0.2)
    X = data(d=3, dtype=np.float32)
    np.testing.assert_allclose(run(model, X)["Y"], net.forward(X), **TOL)


def test_user_defined_activation_raises_naming_it():
    def cube(z):
        return z**3

    net = mlpnet.Network([2, 3, 1], activation=(cube, lambda z: 3 * z**2), seed=0)
    with pytest.raises(ValueError, match="user-defined activation 'cube' of layer 1"):
        to_onnx(net)


def test_other_models_and_unfitted_estimators_raise():
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    with pytest.raises(ValueError, match="not fitted"):
        to_onnx(mlpnet.MLPClassifier())
    with pytest.raises(ValueError, match="got list"):
        to_onnx([1, 2])


def test_without_onnx_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # "import onnx" now raises ImportError
    with pytest.raises(ImportError, match=r"mlpnet\[onnx\]"):
        to_onnx(mlpnet.Network([2, 1]))


def test_lazy_attribute_of_the_package():
    assert mlpnet.to_onnx is to_onnx and "to_onnx" in mlpnet.__all__


# ---------------------------------------------------------------- writing files


def test_path_is_written_atomically(tmp_path, monkeypatch):
    net = mlpnet.Network([3, 4, 2], seed=0)
    path = tmp_path / "net.onnx"
    model = to_onnx(net, path)
    assert onnx.load(str(path)) == model
    old = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        to_onnx(mlpnet.Network([3, 9, 2], seed=1), path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["net.onnx"]  # no temporary left


def test_missing_directory_raises_and_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_onnx(mlpnet.Network([2, 1]), tmp_path / "no" / "net.onnx")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- estimators


@pytest.fixture
def fitted():
    """fit(estimator, X, y) without convergence warnings (a few epochs are enough here)."""
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from sklearn.exceptions import ConvergenceWarning

    def fit(est, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(X, y)

    return fit


def targets(X, kind):
    a, b = X[:, 0] > 0, X[:, 1] > 0
    return {
        "binary": a.astype(int),
        "boolean": a,
        "float labels": a + 1.0,
        "binary strings": np.where(a, "spam", "ham"),
        "multiclass": a.astype(int) * 3 + b.astype(int) - 1,  # labels -1, 0, 2, 3
        "multiclass strings": np.array(["cat", "dog", "emu"])[a.astype(int) + b.astype(int)],
        "multilabel": np.stack([a, b, X[:, 2] > 0], axis=1).astype(int),
    }[kind]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kind",
    [
        "binary",
        "boolean",
        "float labels",
        "binary strings",
        "multiclass",
        "multiclass strings",
        "multilabel",
    ],
)
def test_classifier_labels_and_probabilities(fitted, kind, dtype):
    X = data(n=80, dtype=dtype)
    clf = fitted(
        mlpnet.MLPClassifier((6, 5), activation="tanh", max_iter=30, random_state=0),
        X,
        targets(X, kind),
    )
    out = run(to_onnx(clf), X)
    assert list(out) == ["label", "probabilities"]
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert out["probabilities"].dtype == np.dtype(dtype)
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), **TOL)


def test_classifier_follows_the_layers_of_the_fitted_network(fitted):
    X = data(n=60)
    clf = mlpnet.MLPClassifier((5, 4), activation=["tanh", "relu"], max_iter=20, random_state=0)
    try:
        fitted(clf, X, targets(X, "multiclass"))
    except (ValueError, TypeError):  # scikit-learn's InvalidParameterError is a ValueError
        pytest.skip("this MLPClassifier takes one activation for all hidden layers")
    model = to_onnx(clf)
    assert [n.op_type for n in model.graph.node][:4] == ["Gemm", "Tanh", "Gemm", "Relu"]
    np.testing.assert_array_equal(run(model, X)["label"], clf.predict(X))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "loss, n_outputs", [("squared_error", 1), ("squared_error", 3), ("poisson", 1)]
)
def test_regressor_matches_predict_and_its_shape(fitted, loss, n_outputs, dtype):
    X = data(n=60, dtype=dtype)
    y = np.exp(X[:, :n_outputs]) if loss == "poisson" else X[:, :n_outputs] @ np.eye(n_outputs) * 2
    y = y.ravel() if n_outputs == 1 else y
    reg = fitted(mlpnet.MLPRegressor(loss, (6,), max_iter=30, random_state=0), X, y)
    Y = run(to_onnx(reg), X)["Y"]
    assert Y.shape == reg.predict(X).shape == y.shape  # (n,) for one output, as predict
    np.testing.assert_allclose(Y, reg.predict(X), **TOL)


# ---------------------------------------------------------------- skl2onnx and the command line


@pytest.mark.parametrize("zipmap", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_skl2onnx_converts_a_whole_pipeline(fitted, zipmap, dtype):
    skl2onnx = pytest.importorskip("skl2onnx", reason="pipelines convert through skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlpnet.onnx_export import register_skl2onnx

    assert register_skl2onnx()
    X = (data(n=80) * 5 + 3).astype(dtype)
    y = targets(X - 3, "multiclass strings")
    pipe = fitted(
        make_pipeline(StandardScaler(), mlpnet.MLPClassifier((6,), max_iter=30, random_state=0)),
        X,
        y,
    )
    model = skl2onnx.to_onnx(pipe, X[:1], options={id(pipe[-1]): {"zipmap": zipmap}})
    assert "Gemm" in {n.op_type for n in model.graph.node}
    label, proba = run(model, X).values()
    if zipmap:  # a list of {class: probability}, float32 whatever the input
        proba = np.array([[row[c] for c in pipe.classes_] for row in proba])
    np.testing.assert_array_equal(label, pipe.predict(X))
    np.testing.assert_allclose(proba, pipe.predict_proba(X), **TOL)


@pytest.mark.parametrize(
    "kind, options",
    [
        ("multilabel", {"zipmap": False}),
        ("float labels", {"zipmap": False}),
        ("binary strings", {"zipmap": False, "nocl": True}),
    ],
)
def test_skl2onnx_label_options(fitted, kind, options):
    skl2onnx = pytest.importorskip("skl2onnx", reason="pipelines convert through skl2onnx")
    from mlpnet.onnx_export import register_skl2onnx

    register_skl2onnx()
    X = data(n=60)
    clf = fitted(mlpnet.MLPClassifier((5,), max_iter=20, random_state=0), X, targets(X, kind))
    label, proba = run(skl2onnx.to_onnx(clf, X[:1], options={id(clf): options}), X).values()
    expected = clf.predict(X)
    if options.get("nocl"):  # labels replaced by their indices 0, 1, …
        expected = np.searchsorted(clf.classes_, expected)
    np.testing.assert_array_equal(label, expected)
    np.testing.assert_allclose(proba, clf.predict_proba(X), **TOL)


def test_skl2onnx_casts_an_integer_input(fitted):
    skl2onnx = pytest.importorskip("skl2onnx", reason="pipelines convert through skl2onnx")
    from skl2onnx.common.data_types import Int64TensorType

    from mlpnet.onnx_export import register_skl2onnx

    register_skl2onnx()
    X = np.random.default_rng(0).integers(0, 5, size=(40, 3))
    clf = fitted(mlpnet.MLPClassifier((4,), max_iter=10, random_state=0), X, X[:, 0] > 2)
    model = skl2onnx.to_onnx(
        clf, initial_types=[("X", Int64TensorType([None, 3]))], options={id(clf): {"zipmap": False}}
    )
    label, proba = run(model, X.astype(np.int64)).values()
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), **TOL)


def test_skl2onnx_converts_a_regressor_pipeline(fitted):
    skl2onnx = pytest.importorskip("skl2onnx", reason="pipelines convert through skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlpnet.onnx_export import register_skl2onnx

    register_skl2onnx()
    X = data(n=60).astype(np.float32) * 4
    pipe = fitted(
        make_pipeline(
            StandardScaler(),
            mlpnet.MLPRegressor(
                hidden_layer_sizes=(5,), max_iter=30, random_state=0, dtype="float64"
            ),
        ),
        X,
        X[:, 0] - X[:, 1],
    )
    (Y,) = run(skl2onnx.to_onnx(pipe, X[:1]), X).values()
    assert Y.dtype == np.float32 and Y.shape == (len(X),)  # cast back to the input's type
    np.testing.assert_allclose(Y, pipe.predict(X), **TOL)


def test_cli_export_round_trip(tmp_path):
    from click.testing import CliRunner

    from mlpnet.cli import cli

    net = mlpnet.Network([4, 6, 3], activation="tanh", output_activation="softmax", seed=0)
    net.save(tmp_path / "model.npz")
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "model.npz")])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and (tmp_path / "model.onnx").is_file()
    X = data(dtype=np.float32)
    Y = run(onnx.load(str(tmp_path / "model.onnx")), X)["Y"]
    np.testing.assert_allclose(Y, net.forward(X), **TOL)
    result = CliRunner().invoke(
        cli, ["export", str(tmp_path / "model.npz"), "-o", str(tmp_path / "other.onnx")]
    )
    assert (
        result.exit_code == 0
        and (tmp_path / "other.onnx").read_bytes() == (tmp_path / "model.onnx").read_bytes()
    )


def test_cli_export_without_onnx_is_one_error_line(tmp_path, monkeypatch, capsys):
    from mlpnet.cli import cli

    mlpnet.Network([2, 1]).save(tmp_path / "model.npz")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", str(tmp_path / "model.npz")], prog_name="mlpnet")
    assert exit_info.value.code == 1 and not (tmp_path / "model.onnx").exists()
    assert capsys.readouterr().err == (
        'error: exporting to ONNX needs the onnx package: pip install "mlpnet[onnx]"\n'
    )


@pytest.mark.parametrize(
    "case", ["text labels", "integer labels", "binary cross-entropy", "regression"]
)
def test_cli_export_computes_what_predict_prints(tmp_path, case):
    """A model `mlpnet train --standardize` saved: the ONNX graph takes the raw features and gives
    `mlpnet predict --proba`'s labels and probabilities (or predictions)."""
    from click.testing import CliRunner

    from mlpnet.cli import cli

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3)) * [1.0, 50.0, 0.01] + [0.0, 200.0, -3.0]  # scales far apart
    Z = (X - X.mean(0)) / X.std(0)
    k = (Z[:, 0] > 0).astype(int) + (Z[:, 1] > 0.3).astype(int)
    target, extra = {
        "text labels": (np.array(["ant", "bee", "cat"])[k], []),
        "integer labels": (k, []),
        "binary cross-entropy": ((Z[:, 2] > 0).astype(int), ["--loss", "binary_cross_entropy"]),
        "regression": (np.sin(Z[:, 0]) + Z[:, 1], ["--loss", "half_squared_error"]),
    }[case]
    rows = [",".join([*map(repr, x.tolist()), str(t)]) for x, t in zip(X, target, strict=True)]
    (tmp_path / "xy.csv").write_text("a,b,c,y\n" + "\n".join(rows) + "\n")
    np.save(tmp_path / "x.npy", X)
    runner, model = CliRunner(), str(tmp_path / "m.npz")
    train = ["train", "--data", str(tmp_path / "xy.csv"), "--hidden", "5", "--epochs", "3",
             "--standardize", "--seed", "1", "-o", model, *extra]  # fmt: skip
    result = runner.invoke(cli, train, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["export", model], catch_exceptions=False)
    assert result.exit_code == 0 and "standardized as in training" in result.output, result.output
    outputs = run(onnx.load(str(tmp_path / "m.onnx")), X.astype(np.float32))
    args = ["predict", model, str(tmp_path / "x.npy")]
    printed = runner.invoke(cli, args + ["--proba"], catch_exceptions=False).stdout.splitlines()
    header, body = printed[0].split(","), [line.split(",") for line in printed[1:]]
    columns = {name: [row[j] for row in body] for j, name in enumerate(header)}
    if case == "regression":
        assert set(outputs) == {"Y"} and header == ["prediction"]
        np.testing.assert_allclose(outputs["Y"][:, 0], np.float64(columns["prediction"]), **TOL)
        return
    assert set(outputs) == {"label", "probabilities"}
    labels = outputs["label"].astype(str).tolist()
    assert labels == columns["label"]  # text names, or indices
    P = np.stack([np.float64(columns[f"p_{j}"]) for j in range(outputs["probabilities"].shape[1])])
    np.testing.assert_allclose(outputs["probabilities"], P.T, rtol=1e-4, atol=1e-5)  # %.6g
