"""Registration of this package's commands and pipeline steps with the core."""

from __future__ import annotations

import click

from helpdesk.plugins import Registry


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Worker threads of the web server.")
def serve(host: str, port: int, threads: int) -> None:
    """Upgrade the database schema, then serve the staff workplace and the public FAQ with waitress."""
    import waitress

    from admin.app import create_app
    from helpdesk import schema
    from helpdesk.cli import get_settings

    settings = get_settings()
    schema.upgrade(settings)
    app = create_app(settings)
    click.echo(f"Serving on http://{host}:{port}/ (staff: /admin/, FAQ: /faq/nl/)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="helpdesk")


def register(registry: Registry) -> None:
    registry.add_command(serve)
