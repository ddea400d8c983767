"""The ``mlpnet`` command line: train, evaluate, predict, gradcheck, demo, bench and more.

Every command checks its arguments through the library, which raises ``ValueError``,
``FileNotFoundError`` or `mlpnet.TrainingDiverged` with a message naming the problem, and for a
file the file first (``model.npz: …``; for data, where known, the line or row and the column).
The group turns each failure into one line ``error: …`` on stderr, never a traceback: exit status
1 for a failed command (bad file, data or value; an OS error; out of memory), 2 for a command line
that cannot be parsed (click's usage errors: unknown option, missing or mistyped value), 130 for
Ctrl-C (after saving what was trained), 141 (quietly) when the reader of stdout has gone
(`mlpnet demo | head -2`). Anything else is reported as ``unexpected …`` and means a
bug in mlpnet; set ``MLPNET_DEBUG=1`` to get its traceback.

Data comes from a built-in set (``mnist-10k``, ``digits``, ``xor``) or a table file (``.csv`` with
a header row, ``.npy``, ``.npz``) read by `mlpnet.datasets.load_table`. A trained model is an
ordinary mlpnet file (`mlpnet.load` reads it) whose spec also records how it was trained (loss,
data, classes), so that ``evaluate`` and ``predict`` need no repeated options.

Modules: ``_data`` (data sets, tables, targets), ``_build`` (network, optimizer and split from
the options), ``_train``, ``_evaluate`` (evaluate, predict), ``_tools`` (gradcheck, bench),
``_demo``, ``_download`` (MNIST), ``_export`` (ONNX); the playground's command lives in
`mlpnet.playground`.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

import click

import mlpnet

from ..errors import TrainingDiverged
from ..playground.command import playground
from ._demo import demo
from ._download import download
from ._evaluate import evaluate, predict
from ._export import export
from ._tools import bench, gradcheck
from ._train import train

__all__ = ["cli", "main"]

EXIT_FAILED, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 130, 141
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Group(click.Group):
    """A click group whose every failure is one line ``error: …`` on stderr (see the module)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; in standalone mode exit with the status of the module docstring."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            status = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:
            _fail("interrupted", EXIT_INTERRUPTED)
        except _NO_ARGS_IS_HELP as exc:  # a bare "mlpnet" (click ≥ 8.2): the help, not an error
            click.echo(exc.format_message())
            sys.exit(0)
        except click.ClickException as exc:
            hint = _help_hint(exc)
            _fail(f"{exc.format_message()}{hint}", exc.exit_code)
        sys.exit(status if isinstance(status, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, turning the library's exceptions into one line and a status."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError:
            _reader_gone()
        except (ValueError, OSError, ImportError, TrainingDiverged) as exc:
            _fail(_describe(exc), EXIT_FAILED)
        except MemoryError as exc:  # the data or network asked for is too big: not a bug
            _fail(f"out of memory ({exc or 'no details'})", EXIT_FAILED)
        except Exception as exc:
            if os.environ.get("MLPNET_DEBUG"):
                raise
            _fail(
                f"unexpected {type(exc).__name__}: {_describe(exc)} "
                "(a bug in mlpnet; MLPNET_DEBUG=1 shows the traceback)",
                EXIT_FAILED,
            )


def _describe(exc: BaseException) -> str:
    """The exception's message on one line; an OS error as "file: reason"."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _help_hint(exc: click.ClickException) -> str:
    """Return " (see 'mlpnet train --help')" for a usage error of a command, else ""."""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        return f" (see '{ctx.command_path} --help')"
    return ""


def _reader_gone() -> NoReturn:
    """Stop quietly when stdout's reader has gone (``mlpnet demo | head -2``), like other tools.

    Status 141 = 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe; stdout
    is pointed at the null device so that the exit's final flush fails no more.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. a test's captured stdout)
        pass
    sys.exit(EXIT_BROKEN_PIPE)


def _fail(message: str, status: int) -> NoReturn:
    """Write ``error: message`` (on one line) on stderr and exit with `status`."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(status)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(mlpnet.__version__, prog_name="mlpnet")
def cli() -> None:
    """Multilayer perceptrons trained by exact backpropagation.

    Every command has --help. Data for train and evaluate: mnist-10k, digits, xor, or a .csv (with a
    header row), .npy or .npz file.
    """


for _command in (train, evaluate, predict, gradcheck, demo, bench):
    cli.add_command(_command)
cli.add_command(export)
cli.add_command(download)
cli.add_command(playground)


def main() -> None:
    """Entry point of the ``mlpnet`` script and of ``python -m mlpnet``."""
    warnings.formatwarning = lambda message, *args, **kwargs: f"warning: {message}\n"
    try:
        cli.main(prog_name="mlpnet")
    except BrokenPipeError:  # in click's own output (help, usage errors)
        _reader_gone()
