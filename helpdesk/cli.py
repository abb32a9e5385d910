"""The `helpdesk` command line: core commands plus those that plugins register."""

from __future__ import annotations

import logging
import sys

import click

from helpdesk.config import ConfigError, Settings, load_settings
from helpdesk.logs import configure_logging
from helpdesk.plugins import get_registry


class HelpdeskGroup(click.Group):
    """A click group that adds plugin commands and turns ConfigError into a clean exit."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, name)

    def _add_plugin_commands(self) -> None:
        for command in get_registry().commands:
            if command.name not in self.commands:
                self.add_command(command)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None


def get_settings(ctx: click.Context | None = None) -> Settings:
    """Return the settings of the running command, loading them on first use."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = load_settings()
    return root.obj


@click.group(cls=HelpdeskGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages to stderr.")
def main(verbose: bool) -> None:
    """Email helpdesk and FAQ knowledge base."""
    configure_logging(logging.DEBUG if verbose else logging.INFO)


def _register_core_commands() -> None:
    # Imported here so that `helpdesk.cli` stays importable while a command
    # module is broken; each module adds its own commands to `main`.
    from helpdesk.commands import backup, check, database, ingest, metrics, redaction, teams, tickets, users  # noqa: F401


_register_core_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
