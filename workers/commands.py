"""The `helpdesk worker` command."""

from __future__ import annotations

import click


@click.command("worker")
@click.option("--beat", is_flag=True, help="Also run the scheduler (beat) in this process. Run beat in one process only.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Number of processes that run tasks (default: the number of CPUs).",
)
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Lowest level of log lines written to stderr.",
)
def worker(beat: bool, concurrency: int | None, loglevel: str) -> None:
    """Run a Celery worker that polls the mailboxes and sends replies."""
    from workers.app import app

    argv = ["worker", f"--loglevel={loglevel.upper()}"]
    if beat:
        argv.append("--beat")
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)
