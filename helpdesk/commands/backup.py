"""The `helpdesk backup` commands: create, verify and restore backups of the database and keys."""

from __future__ import annotations

from pathlib import Path

import click

from helpdesk.backups import BackupError, create_backup, read_manifest, restore_backup
from helpdesk.cli import get_settings, main


@main.group("backup")
def backup_group() -> None:
    """Back up and restore the database and the keys."""


@backup_group.command("create")
@click.option(
    "--to",
    "destination",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder that receives the backup folder. Default: backups/ in HELPDESK_DATA_DIR.",
)
def backup_create(destination: Path | None) -> None:
    """Write a backup of the database and the keys; print the new folder's path."""
    settings = get_settings()
    try:
        folder = create_backup(settings, destination or settings.data_dir / "backups")
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(str(folder))


@backup_group.command("verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def backup_verify(folder: Path) -> None:
    """Check that every file of a backup folder is present and unchanged."""
    try:
        manifest = read_manifest(folder)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{folder}: {manifest.backend} backup of {manifest.created_at}, schema revision {manifest.revision}, intact.")


@backup_group.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Drop the tables of a database that is not empty before restoring.")
def backup_restore(folder: Path, replace: bool) -> None:
    """Restore a backup folder into the database of HELPDESK_DATABASE_URL.

    Stop the web, worker and beat services first. Afterwards run
    `helpdesk db upgrade` when the backup comes from an older version.
    """
    try:
        manifest = restore_backup(get_settings(), folder, replace=replace)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the {manifest.backend} backup of {manifest.created_at} (schema revision {manifest.revision}).")
