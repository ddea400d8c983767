"""MNIST downloads against a local HTTP server (127.0.0.1, started here) serving files made here.

The server's folders act as mirrors: ``good/`` holds small valid IDX files, ``corrupt/`` the same
files with one byte changed, ``empty/`` nothing (every request a 404), and ``/short/`` hangs up
half-way. `PUBLISHED` is pointed at the small files' sizes and SHA-256 sums.
"""

import hashlib
import http.server
import os
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mlpnet.cli import cli
from mlpnet.datasets import download, download_mnist, find_mnist, load_mnist, mnist_10k, write_idx
from mlpnet.datasets import mnist as mnist_module

SRC = Path(__file__).resolve().parents[2] / "src"
NAMES = [name for pair in download.FILES.values() for name in pair]


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; ``/short/NAME`` sends half of ``good/NAME`` and hangs up."""

    requests: list[str] = []
    root: Path

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).requests.append(self.path)
        if self.path.startswith("/short/"):
            body = (Path(self.directory) / "good" / self.path.rsplit("/", 1)[1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def make_files(folder, n=30, seed=0):
    """The four gzip-compressed IDX files of a tiny MNIST (n images per split); their arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, (images, labels) in download.FILES.items():
        arrays[split] = (
            rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, size=n, dtype=np.uint8),
        )
        write_idx(folder / images, arrays[split][0])
        write_idx(folder / labels, arrays[split][1])
    return arrays


@pytest.fixture
def server(tmp_path_factory, monkeypatch):
    """A mirror tree on 127.0.0.1 (free port); the published table patched to its good files."""
    root = tmp_path_factory.mktemp("mirror")
    arrays = make_files(root / "good")
    (root / "empty").mkdir()
    (root / "corrupt").mkdir()
    for name in NAMES:
        data = (root / "good" / name).read_bytes()
        monkeypatch.setitem(download.PUBLISHED, name, (len(data), hashlib.sha256(data).hexdigest()))
        bad = bytearray(data)
        bad[len(bad) // 2] ^= 0xFF
        (root / "corrupt" / name).write_bytes(bytes(bad))
    Handler.requests, Handler.root = [], root
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: Handler(*a, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(variable, "127.0.0.1,localhost")
    monkeypatch.delenv(download.URL_VARIABLE, raising=False)
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        yield base, arrays
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def no_mnist_around(tmp_path, monkeypatch):
    """No MNIST anywhere find_mnist looks; the cache is tmp_path/cache/mlpnet/mnist."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MLPNET_MNIST_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mnist_module, "_places", lambda: ["mnist", str(download.mnist_cache())])
    return tmp_path / "cache" / "mlpnet" / "mnist"


def mirrors(monkeypatch, base, *folders):
    monkeypatch.setattr(download, "MIRRORS", tuple(f"{base}{folder}/" for folder in folders))


def test_the_published_table_is_the_standard_files():
    # the sizes every mirror and LeCun's page list; SHA-256 as TensorFlow Datasets publishes them
    sizes = {name: size for name, (size, _) in download.PUBLISHED.items()}
    assert sizes == {
        "train-images-idx3-ubyte.gz": 9_912_422,
        "train-labels-idx1-ubyte.gz": 28_881,
        "t10k-images-idx3-ubyte.gz": 1_648_877,
        "t10k-labels-idx1-ubyte.gz": 4_542,
    }
    assert download.PUBLISHED["t10k-labels-idx1-ubyte.gz"][1].startswith("f7ae60f92e00")
    assert all(len(sha) == 64 for _, sha in download.PUBLISHED.values())


def test_download_a_split_then_load_it(server, tmp_path, monkeypatch, capsys):
    base, arrays = server
    mirrors(monkeypatch, base, "good")
    X, y = load_mnist(tmp_path / "data", split="test", download=True)
    images, labels = arrays["test"]
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(X, images.reshape(-1, 784) / 255.0, rtol=1e-6)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(download.FILES["test"])
    assert f"from {base}good/t10k-images-idx3-ubyte.gz" in capsys.readouterr().err
    # present files are not fetched again: with every mirror failing, loading still works
    mirrors(monkeypatch, base, "empty")
    Handler.requests.clear()
    load_mnist(tmp_path / "data", split="test", download=True)
    assert Handler.requests == []


def test_cache_is_the_default_folder(server, no_mnist_around, monkeypatch):
    base, arrays = server
    mirrors(monkeypatch, base, "good")
    with pytest.raises(FileNotFoundError, match="mlpnet download mnist"):
        load_mnist(split="train")
    X, y = load_mnist(split="train", download=True)
    np.testing.assert_array_equal(y, arrays["train"][1])
    assert (no_mnist_around / "train-images-idx3-ubyte.gz").is_file()
    assert find_mnist(split="train") == no_mnist_around
    with pytest.raises(FileNotFoundError, match="test split"):
        find_mnist()  # the test files were not downloaded


def test_cache_location_follows_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.mnist_cache() == tmp_path / "xdg" / "mlpnet" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert download.mnist_cache() == tmp_path / "home" / ".cache" / "mlpnet" / "mnist"


def test_mnist_10k_finds_the_cache(no_mnist_around):
    rng = np.random.default_rng(0)
    no_mnist_around.mkdir(parents=True)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 1000)
    # random pixels: all-zero images would inflate > 100:1, which read_idx refuses as a bomb
    images = rng.integers(0, 256, size=(10_000, 28, 28), dtype=np.uint8)
    write_idx(no_mnist_around / "t10k-images-idx3-ubyte.gz", images)
    write_idx(no_mnist_around / "t10k-labels-idx1-ubyte.gz", rng.permutation(labels))
    _, y_train, _, y_test = mnist_10k()
    np.testing.assert_array_equal(np.bincount(y_test), [200] * 10)
    assert len(y_train) == 8000


def test_corrupted_file_is_refused_and_leaves_nothing(server, tmp_path, monkeypatch):
    base, _ = server
    mirrors(monkeypatch, base, "corrupt")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz") as info:
        download_mnist(tmp_path / "data", "test", log=lambda line: None)
    assert "checksum mismatch" in str(info.value) and f"{base}corrupt/" in str(info.value)
    assert not (tmp_path / "data").exists()


def test_404_falls_through_to_the_next_mirror_and_says_so(server, tmp_path, monkeypatch):
    base, arrays = server
    mirrors(monkeypatch, base, "empty", "corrupt", "good")
    lines = []
    download_mnist(tmp_path, "train", log=lines.append)
    assert (
        f"mirror failed: {base}empty/train-images-idx3-ubyte.gz: HTTP 404 File not found" in lines
    )
    assert any(
        line.startswith(f"mirror failed: {base}corrupt/train-labels-idx1-ubyte.gz: checksum")
        for line in lines
    )
    np.testing.assert_array_equal(load_mnist(tmp_path)[1], arrays["train"][1])
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*"))


def test_every_mirror_failing_names_each(server, tmp_path, monkeypatch):
    base, _ = server
    mirrors(monkeypatch, base, "empty", "short")
    unused = f"http://127.0.0.1:{free_port()}/"  # nothing listens there: connection refused
    monkeypatch.setattr(download, "MIRRORS", (*download.MIRRORS, unused))
    with pytest.raises(ValueError) as info:
        download_mnist(tmp_path, "test", log=lambda line: None)
    message = str(info.value)
    assert message.startswith(
        f"could not download MNIST file t10k-images-idx3-ubyte.gz into {tmp_path}"
    )
    assert f"{base}empty/t10k-images-idx3-ubyte.gz: HTTP 404" in message
    size = download.PUBLISHED["t10k-images-idx3-ubyte.gz"][0]
    half = f"{size // 2:,} bytes, not the published {size:,}"
    assert f"{base}short/t10k-images-idx3-ubyte.gz: {half}" in message
    assert f"{unused}t10k-images-idx3-ubyte.gz: " in message and "MLPNET_MNIST_URL" in message
    assert list(tmp_path.iterdir()) == []


def test_environment_variable_replaces_the_mirrors(server, tmp_path, monkeypatch):
    base, _ = server
    mirrors(monkeypatch, base, "empty")
    monkeypatch.setenv(download.URL_VARIABLE, f"{base}good")  # no trailing slash: added
    assert download.mnist_mirrors() == [f"{base}good/"]
    download_mnist(tmp_path, "test", log=lambda line: None)
    assert all(path.startswith("/good/") for path in Handler.requests)


def test_a_local_copy_by_file_url(server, tmp_path, monkeypatch, tmp_path_factory):
    _, arrays = server
    copy = tmp_path_factory.mktemp("copy")
    for name in NAMES:
        shutil.copy(Handler.root / "good" / name, copy / name)
    monkeypatch.setenv(download.URL_VARIABLE, copy.as_uri())
    np.testing.assert_array_equal(load_mnist(tmp_path, "test", download=True)[1], arrays["test"][1])
    assert Handler.requests == []


def test_ctrl_c_during_a_download_leaves_nothing(server, tmp_path, monkeypatch):
    base, _ = server
    mirrors(monkeypatch, base, "good")

    class Interrupting:
        def update(self, n):
            raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(download, "_progress_bar", lambda *args: Interrupting())
    with pytest.raises(KeyboardInterrupt):
        download_mnist(tmp_path, "train", log=lambda line: None)
    assert list(tmp_path.iterdir()) == []


def test_larger_than_published_is_refused(server, tmp_path, monkeypatch):
    base, _ = server
    mirrors(monkeypatch, base, "good")
    size, sha = download.PUBLISHED["t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setitem(download.PUBLISHED, "t10k-labels-idx1-ubyte.gz", (size - 1, sha))
    with pytest.raises(ValueError, match=f"larger than the published {size - 1:,} bytes"):
        download_mnist(tmp_path, "test", log=lambda line: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t10k-images-idx3-ubyte.gz"]


def test_progress_bar_on_request(server, tmp_path, monkeypatch, capsys):
    pytest.importorskip("tqdm", reason="the progress bar is tqdm's")
    base, _ = server
    mirrors(monkeypatch, base, "good")
    download_mnist(tmp_path, "test", progress=True, log=lambda line: None)
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err


def test_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="'train', 'test' or 'all'"):
        download_mnist(tmp_path, "validation")


# ---------------------------------------------------------------------------- the command line


def invoke(command):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli, shlex.split(command), catch_exceptions=False)


def test_cli_downloads_all_four_files(server, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.setenv(download.URL_VARIABLE, f"{base}good/")
    result = invoke(f"download mnist --dir {tmp_path / 'mnist'}")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(NAMES)
    assert f"MNIST train and test files in {tmp_path / 'mnist'}" in result.stdout
    assert result.stderr.count("downloaded ") == 4


def test_cli_default_is_the_cache(server, no_mnist_around, monkeypatch):
    base, _ = server
    mirrors(monkeypatch, base, "good")
    result = invoke("download mnist --split test")
    assert result.exit_code == 0, result.stderr
    assert "mnist_10k() and --data mnist-10k find them there" in result.stdout
    assert sorted(p.name for p in no_mnist_around.iterdir()) == sorted(download.FILES["test"])


def test_cli_failure_is_one_error_line(server, tmp_path):
    base, _ = server
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        MLPNET_MNIST_URL=f"{base}corrupt/",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mlpnet", "download", "mnist", "--split", "test", "--dir", "d"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: could not download MNIST file t10k-images-idx3-ubyte.gz")
    assert "not the published 1,648,877" in last  # the real table: the small file is too short
    assert not (tmp_path / "d").exists()  # made for the download, removed with it


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
