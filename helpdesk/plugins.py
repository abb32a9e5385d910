"""Extension points through which kb, admin and workers plug into the core.

The core never imports those packages (dependencies point one way). Each
registers itself through the `helpdesk.plugins` entry-point group declared in
pyproject.toml: it may add CLI commands and steps that run on every ingested
message inside the ingest transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Callable, Protocol

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from helpdesk.config import Settings
    from helpdesk.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "helpdesk.plugins"


class IngestStep(Protocol):
    def __call__(self, session: "Session", settings: "Settings", ticket: "Ticket", message: "Message") -> None:
        """Enrich a freshly stored inbound message (for example with suggestions)."""


class PublishCheck(Protocol):
    def __call__(self, text: str) -> list[str]:
        """Return the problems that forbid publishing `text`; empty when it may go public."""


@dataclass
class Registry:
    commands: list[click.Command] = field(default_factory=list)
    ingest_steps: list[IngestStep] = field(default_factory=list)
    # Called with (settings) to queue a task; set by workers, absent in plain CLI use.
    task_dispatchers: dict[str, Callable[..., None]] = field(default_factory=dict)

    def add_command(self, command: click.Command) -> None:
        self.commands.append(command)

    def add_ingest_step(self, step: IngestStep) -> None:
        self.ingest_steps.append(step)


_registry: Registry | None = None


def get_registry() -> Registry:
    """Load every installed plugin once and return the shared registry."""
    global _registry
    if _registry is not None:
        return _registry

    registry = Registry()
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        register = entry_point.load()
        register(registry)
        logger.debug("plugin loaded", extra={"plugin": entry_point.name})
    _registry = registry
    return registry
