"""The `helpdesk metrics` command: print the Prometheus metrics, or serve them over HTTP."""

from __future__ import annotations

import click
from prometheus_client import start_http_server

from helpdesk.cli import get_settings, main
from helpdesk.metrics import metrics_registry, render_metrics


@main.command("metrics")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve the metrics at http://BIND:PORT/metrics until stopped, instead of printing them once.",
)
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on with --port.")
def metrics_command(port: int | None, bind: str) -> None:
    """Print the Prometheus metrics in the text exposition format, or serve them with --port.

    With PROMETHEUS_MULTIPROC_DIR set to the folder that web, worker and
    beat share, the counters are the sums over all their processes. The
    ticket backlog and mailbox health are read from the database at each
    request.
    """
    settings = get_settings()
    if port is None:
        body, _content_type = render_metrics(settings)
        click.echo(body.decode("utf-8"), nl=False)
        return

    server, thread = start_http_server(port, addr=bind, registry=metrics_registry(settings))
    click.echo(f"Serving metrics at http://{bind}:{port}/metrics", err=True)
    try:
        thread.join()
    finally:
        server.shutdown()
