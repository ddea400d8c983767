"""Array backends: NumPy (its fast paths) or an array-API library (PyTorch, CuPy, array-api-strict).

A network's θ lives in one array of its backend. ``"numpy"`` keeps the hand-tuned NumPy engine
(``out=`` buffers, the fused SGD step, BLAS tricks); every other name is resolved through the
Python array API standard by `array-api-compat` (extra ``mlpnet[gpu]``), the way scikit-learn
dispatches, and runs the generic engine of `mlpnet._xp_engine`:

- ``"numpy"``: NumPy itself (the switch `is_numpy`), on the host;
- ``"torch"``: ``array_api_compat.torch``, device ``"cpu"`` (default), ``"cuda"``, ``"cuda:1"``…;
- ``"cupy"``: ``array_api_compat.cupy``, on the current GPU or the one numbered;
- ``"array_api_strict"``: the standard's reference library (for tests), its default device.

NumPy input is moved once (`asarray`); results are read back by `to_numpy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BACKENDS", "Backend", "asarray", "get_backend", "is_numpy", "to_numpy"]

BACKENDS = ("numpy", "torch", "cupy", "array_api_strict")
"""The backend names `get_backend` accepts."""


@dataclass(frozen=True)
class Backend:
    """A resolved backend: its ``name``, array namespace ``xp`` and ``device`` (None: default)."""

    name: str
    xp: Any
    device: Any = None

    @property
    def is_numpy(self) -> bool:
        """Whether this is the NumPy backend, which keeps the NumPy-only fast paths."""
        return self.name == "numpy"

    def spec(self) -> tuple[str, Any]:
        """``(name, device)`` in plain values that `get_backend` takes back (for pickling)."""
        device = self.device
        if self.name == "cupy":
            device = device.id
        elif self.name == "torch":
            device = str(device)
        return self.name, device

    def __str__(self) -> str:
        return self.name if self.device is None else f"{self.name} on {self.device}"


NUMPY = Backend("numpy", np, None)


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f'this backend needs {module.split(".")[0]}: pip install "mlpnet[{extra}]"'
        ) from exc


def get_backend(name: str | Backend = "numpy", device: Any = None) -> Backend:
    """Resolve a backend name and device to a `Backend`.

    Raises
    ------
    ValueError
        For an unknown name (listing `BACKENDS`), a device the backend does not have (e.g.
        ``device="cuda"`` where PyTorch sees no GPU), or a device given to the NumPy backend.
    ImportError
        When the library (or array-api-compat) is missing, saying what to install.
    """
    if isinstance(name, Backend):
        return name if device is None else get_backend(name.name, device)
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {list(BACKENDS)}")
    name = name.lower()
    if name == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"the numpy backend runs on the cpu only, got device={device!r}")
        return NUMPY
    if name == "array_api_strict":
        xp = _need("array_api_strict", "test")
        if device not in (None, "cpu"):
            raise ValueError(f"array_api_strict has its default device only, got {device!r}")
        return Backend(name, xp, None)
    _need("array_api_compat", "gpu")
    if name == "torch":
        torch = _need("torch", "torch")
        xp = _need("array_api_compat.torch", "gpu")
        dev = torch.device("cpu" if device is None else device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: PyTorch sees no CUDA GPU on this machine")
        return Backend(name, xp, dev)
    cupy = _need("cupy", "gpu")  # name == "cupy"
    xp = _need("array_api_compat.cupy", "gpu")
    if device in (None, "cuda"):
        return Backend(name, xp, cupy.cuda.Device())
    if isinstance(device, str) and device.startswith("cuda:"):
        device = int(device[5:])
    return Backend(name, xp, cupy.cuda.Device(device))


def is_numpy(backend: Backend | None) -> bool:
    """The one switch between the NumPy fast paths and the generic array-API engine."""
    return backend is None or backend.is_numpy


def is_backend_array(x: Any, backend: Backend) -> bool:
    """Whether `x` already is an array of `backend` (so it need not be moved)."""
    if backend.is_numpy:
        return isinstance(x, np.ndarray)
    return backend_of_array(x) == backend.name


def asarray(x: Any, backend: Backend, dtype: Any = None) -> Any:
    """`x` as an array of `backend` on its device (a NumPy array or a list is moved once)."""
    xp = backend.xp
    if backend.is_numpy:
        return np.asarray(x, dtype=dtype)
    xdtype = None if dtype is None else getattr(xp, np.dtype(dtype).name)
    if is_backend_array(x, backend):
        if xdtype is not None and x.dtype != xdtype:
            x = xp.astype(x, xdtype)
        if backend.device is not None and _device_of(x) != backend.device:
            x = _to_device(x, backend)
        return x
    host = np.ascontiguousarray(x if dtype is None else np.asarray(x, dtype=dtype))
    if backend.device is None:
        return xp.asarray(host)
    if backend.name == "cupy":
        with backend.device:
            return xp.asarray(host)
    return xp.asarray(host, device=backend.device)


def _device_of(x: Any) -> Any:
    return x.device


def _to_device(x: Any, backend: Backend) -> Any:
    if backend.name == "torch":
        return x.to(backend.device)
    with backend.device:  # cupy
        return backend.xp.asarray(x)


def to_numpy(x: Any) -> Any:
    """A NumPy array with the values of `x` (copied off a GPU; a NumPy array is returned as is)."""
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return x
    mod = type(x).__module__.split(".")[0]
    if mod == "torch":
        return x.detach().cpu().numpy()
    if mod == "cupy":
        return x.get()
    if hasattr(x, "__dlpack__"):
        return np.from_dlpack(x)  # array_api_strict and other host libraries
    return np.asarray(x)  # lists, scalars


def backend_of_array(x: Any) -> str:
    """The backend name of an array (``"numpy"`` for NumPy arrays and array-likes)."""
    mod = type(x).__module__.split(".")[0]
    return {"torch": "torch", "cupy": "cupy", "array_api_strict": "array_api_strict"}.get(
        mod, "numpy"
    )
