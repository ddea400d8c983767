"""``mlpnet playground``: the click command (imports Starlette and uvicorn only when run)."""

from __future__ import annotations

import click

__all__ = ["playground"]


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the default is reachable from this machine only.",
)
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab.")
def playground(host: str, port: int, no_browser: bool) -> None:
    """Watch a network learn in the browser: boundary, neurons, backprop, gradient norms.

    Needs pip install "mlpnet[playground]". Ctrl-C stops the server.
    """  # noqa: D301
    from . import serve

    serve(host=host, port=port, open_browser=not no_browser)
