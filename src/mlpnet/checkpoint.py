"""Checkpoints: save θ and the optimizer's state after every epoch, and resume training from them.

A checkpoint is an ordinary mlpnet file (`mlpnet.io.save_npz`, written atomically): `mlpnet.load`
reads it as a `Network`. Beside the architecture, its JSON spec holds a ``"checkpoint"`` entry with
the number of epochs completed, the per-epoch figures recorded so far, free-form ``meta`` (the
command line keeps its training settings there) and the optimizer's state (step count k, momentum
or Adam's moments as extra arrays), so that

>>> ckpt = Checkpoint("run.npz", optimizer=opt)  # doctest: +SKIP
>>> net.fit(X, Y, loss=..., optimizer=opt, epochs=20, callbacks=[ckpt])  # doctest: +SKIP

can be continued after a crash or Ctrl-C with

>>> net, info = load_checkpoint("run.npz", optimizer=opt)  # doctest: +SKIP
>>> net.fit(X, Y, loss=..., optimizer=opt, epochs=20 - info.epoch,  # doctest: +SKIP
...         callbacks=[Checkpoint("run.npz", optimizer=opt, initial_epoch=info.epoch)])

The resumed run starts from the saved θ and optimizer state; it matches an uninterrupted run
except for the mini-batch order, which ``fit`` draws afresh from its seed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ._checks import check_count
from ._types import Trainable
from .backends import backend_of_array, to_numpy
from .callbacks import Callback
from .history import EpochLogs
from .io import read_npz, save_npz

__all__ = ["Checkpoint", "CheckpointInfo", "load_checkpoint", "restore_optimizer"]

_PREFIX = "optimizer."
_FIGURES = ("loss", "val_loss", "accuracy", "val_accuracy")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class CheckpointInfo(NamedTuple):
    """What `load_checkpoint` found besides the network."""

    epoch: int
    """Epochs completed when the checkpoint was written (over all runs)."""
    history: dict[str, list[float]]
    """Per-epoch figures so far: "loss", "val_loss", "accuracy", "val_accuracy" (where recorded)."""
    meta: dict[str, Any]
    """The ``meta`` given to `Checkpoint`."""
    optimizer: dict[str, Any] | None
    """The optimizer's class name and state as saved (None if none was); see `restore_optimizer`."""
    arrays: dict[str, np.ndarray]
    """The state's arrays, by field name."""
    path: str
    """The file read."""


class Checkpoint(Callback):
    """Write the model, its optimizer's state and the epoch count to `path` after every epoch.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file (no suffix is added); replaced atomically each time, so a crash leaves
        the previous checkpoint intact. Its folder must exist.
    optimizer : optimizer object, optional
        The one passed to ``fit``; its ``state`` (a NamedTuple of numbers and arrays) is saved too.
    every : int, default 1
        Write after every `every`-th epoch (and always after the last).
    initial_epoch : int, default 0
        Epochs already completed before this ``fit`` call (``CheckpointInfo.epoch`` on resume).
    meta : dict, optional
        JSON-able data stored as is (e.g. the settings needed to resume).
    history : dict, optional
        Per-epoch figures of earlier runs to continue (``CheckpointInfo.history`` on resume).

    Raises
    ------
    ValueError
        For a non-positive `every` or a negative `initial_epoch`.
    FileNotFoundError
        If the folder of `path` does not exist (checked now, not after the first epoch).

    Notes
    -----
    The model must have ``spec()`` (as `mlpnet.Network` has) so the file loads as a network.
    After Ctrl-C or divergence the file holds the last completed epoch.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        optimizer: Any = None,
        every: int = 1,
        initial_epoch: int = 0,
        meta: dict[str, Any] | None = None,
        history: dict[str, list[float]] | None = None,
    ) -> None:
        every = check_count("every", every)
        initial_epoch = check_count("initial_epoch", initial_epoch, minimum=0)
        folder = Path(path).parent
        if not folder.is_dir():
            raise FileNotFoundError(f"cannot write checkpoint {path}: no folder {folder}")
        self.path = os.fspath(path)
        self.optimizer = optimizer
        self.every = every
        self.initial_epoch = initial_epoch
        self.epoch = initial_epoch
        self.meta = dict(meta or {})
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self._model: Trainable | None = None
        self._pending = False

    def on_train_begin(self, model: Trainable) -> None:
        """Remember the model whose θ is saved."""
        if not callable(getattr(model, "spec", None)):
            raise ValueError("Checkpoint needs a model with spec(), such as mlpnet.Network")
        self._model = model

    def on_epoch_end(self, epoch: int, logs: EpochLogs) -> None:
        """Record the epoch's figures and write the file every `every` epochs."""
        for name in _FIGURES:
            value = logs.get(name)
            if value is not None:
                self.history.setdefault(name, []).append(float(value))
        self.epoch = self.initial_epoch + epoch + 1
        self._pending = (epoch + 1) % self.every != 0
        if not self._pending:
            self.save()

    def on_train_end(self, history: Any) -> None:
        """Write the last epoch if `every` skipped it."""
        if self._pending:
            self.save()

    def save(self) -> None:
        """Write the checkpoint now (atomically)."""
        if self._model is None:
            raise ValueError("Checkpoint.save before training began: no model to save")
        state, arrays = _state_to_json(getattr(self.optimizer, "state", None))
        spec = dict(self._model.spec())
        spec["checkpoint"] = {
            "epoch": self.epoch,
            "history": {k: [_finite(v) for v in vs] for k, vs in self.history.items()},
            "meta": self.meta,
            "optimizer": None
            if self.optimizer is None
            else {"class": type(self.optimizer).__name__, "state": state},
        }
        save_npz(self.path, to_numpy(self._model.params), spec, **arrays)  # NumPy, any backend
        self._pending = False


def load_checkpoint(
    path: str | os.PathLike[str], optimizer: Any = None
) -> tuple[Any, CheckpointInfo]:
    """Read a checkpoint: the network, and restore `optimizer`'s state from it.

    Parameters
    ----------
    path : str or path-like
        A file written by `Checkpoint`.
    optimizer : optimizer object, optional
        Passed to `restore_optimizer` (its state is replaced if it is of the saved class).

    Returns
    -------
    net : Network
    info : CheckpointInfo

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file, when it is not an mlpnet checkpoint.
    """
    from ._spec import network_layout
    from .network import network_from_spec

    saved = read_npz(path, expect=network_layout)
    net = network_from_spec(saved.theta, saved.spec, path)
    entry = saved.spec.get("checkpoint")
    if not isinstance(entry, dict) or not _is_count(entry.get("epoch")):
        raise ValueError(
            f"{path}: an mlpnet network but not a checkpoint (no epoch count); "
            "checkpoints are written by train --checkpoint"
        )
    try:
        history = {
            str(k): [_figure(v) for v in vs] for k, vs in dict(entry.get("history") or {}).items()
        }
        meta = dict(entry.get("meta") or {})
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: damaged checkpoint entry ({err})") from None
    opt_entry = entry.get("optimizer")
    arrays = {
        name[len(_PREFIX) :]: array
        for name, array in saved.extra.items()
        if name.startswith(_PREFIX)
    }
    for name, array in arrays.items():
        if array.shape != (net.n_params,) or array.dtype.kind != "f":
            raise ValueError(
                f"{path}: damaged optimizer state {name!r} (dtype {array.dtype}, shape "
                f"{array.shape}; expected {net.n_params} floats, one per parameter)"
            )
    info = CheckpointInfo(
        entry["epoch"],
        history,
        meta,
        opt_entry if isinstance(opt_entry, dict) else None,
        arrays,
        os.fspath(path),
    )
    if optimizer is not None:
        restore_optimizer(optimizer, info)
    return net, info


def restore_optimizer(optimizer: Any, info: CheckpointInfo) -> bool:
    """Give `optimizer` the state saved in `info`; return whether it did.

    The state is restored only when the checkpoint saved one for an optimizer of the same class
    (with the same state fields); otherwise `optimizer` is left as it is and False is returned.

    Raises
    ------
    ValueError
        Naming the file, when the saved state is damaged.
    """
    saved = info.optimizer
    current = getattr(optimizer, "state", None)
    if (
        saved is None
        or saved.get("class") != type(optimizer).__name__
        or not hasattr(current, "_fields")
        or not isinstance(saved.get("state"), dict)
        or set(saved["state"]) != set(current._fields)
    ):
        return False
    try:
        optimizer.state = _state_from_json(current, saved["state"], info.arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ValueError(f"{info.path}: damaged optimizer state in checkpoint ({err})") from None
    return True


def _is_count(value: Any) -> bool:
    """True for an int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _figure(value: Any) -> float:
    """A recorded figure: a JSON number, or null for NaN."""
    if value is None:
        return math.nan
    if type(value) not in (int, float):
        raise ValueError(f"a figure must be a number, got {value!r:.40}")
    return float(value)


def _finite(value: float) -> float | None:
    """JSON has no NaN: store non-finite figures as null."""
    return value if math.isfinite(value) else None


def _state_to_json(state: Any) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
    """Split an optimizer's NamedTuple state into JSON fields and arrays (saved as extras)."""
    if state is None or not hasattr(state, "_fields"):
        return None, {}
    fields: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, value in zip(state._fields, state, strict=True):
        if isinstance(value, np.generic):
            value = value.item()
        if backend_of_array(value) != "numpy":  # a backend's array (mlpnet.backends): to the host
            value = to_numpy(value)
        if isinstance(value, np.ndarray):
            arrays[_PREFIX + name] = value
            fields[name] = {"array": True}
        elif isinstance(value, np.random.Generator):
            fields[name] = {"generator": value.bit_generator.state}
        elif value is None or isinstance(value, (int, float, bool, str)):
            fields[name] = {"value": value}
        else:
            raise ValueError(f"cannot checkpoint optimizer state field {name!r} = {value!r}")
    return fields, arrays


def _state_from_json(current: Any, fields: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of `_state_to_json`, building a state of the same NamedTuple type as `current`."""
    values = {}
    for name in current._fields:
        field = fields[name]
        if field.get("array"):
            values[name] = np.array(arrays[name])
        elif "generator" in field:
            kind = field["generator"]["bit_generator"]
            if kind not in _BIT_GENERATORS:
                raise ValueError(f"unknown bit generator {kind!r}")
            bit_generator = getattr(np.random, kind)()
            bit_generator.state = field["generator"]
            values[name] = np.random.Generator(bit_generator)
        else:
            values[name] = field["value"]
    return type(current)(**values)
