"""The `helpdesk metrics` command: print what a /metrics endpoint would serve."""

from __future__ import annotations

import click

from helpdesk.cli import get_settings, main
from helpdesk.metrics import render_metrics


@main.command("metrics")
def metrics_command() -> None:
    """Print the Prometheus metrics in the text exposition format.

    With PROMETHEUS_MULTIPROC_DIR set, the counters are those of all
    processes that share the folder, so a cron job can write this output
    for node_exporter's textfile collector.
    """
    body, _content_type = render_metrics(get_settings())
    click.echo(body.decode("utf-8"), nl=False)
