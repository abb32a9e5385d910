"""Extension points through which kb, admin and workers plug into the core.

The core never imports those packages (dependencies point one way). Each
registers itself through the `helpdesk.plugins` entry-point group declared in
pyproject.toml: it may add CLI commands, steps that run on every ingested
message inside the ingest transaction, annotators that set fields before
the message's rows are written, and the part of such a step that can run
ahead of it in another process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Callable, ContextManager, Protocol

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from helpdesk.config import Settings
    from helpdesk.ingest.prepare import PreparedText
    from helpdesk.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "helpdesk.plugins"


class IngestStep(Protocol):
    def __call__(self, session: "Session", settings: "Settings", ticket: "Ticket", message: "Message") -> None:
        """Enrich a freshly stored inbound message (for example with suggestions).

        Steps run once the mail's rows have ids, mail after mail in the order
        they were fetched. When a batch is stored at once, the later mails of
        the batch are stored already, so a step that looks at a ticket's other
        messages must only count those with a lower id. Rows added with
        helpdesk.deferred_rows.insert_rows may be written only after the
        batch's last step, so a step that reads such a table calls
        write_deferred_rows first.
        """


class IngestAnnotator(Protocol):
    def __call__(self, session: "Session", settings: "Settings", ticket: "Ticket", message: "Message") -> None:
        """Set fields of a new inbound client message and its ticket before their rows are written.

        The rows have no ids yet. Values set here go into the INSERT instead
        of an UPDATE after it. The ingest steps run later, and must give the
        same result when an annotator did not run or failed.
        """


class IngestPreparer(Protocol):
    """Work of an ingest step that needs no database session, done ahead of the ingest transaction.

    helpdesk.ingest.prepare calls `prepare` in a worker process for each
    parsed client mail of a fetch batch, and `use` in the polling process
    around the batch's transaction with the results of that batch. The step
    must give the same result with or without them.
    """

    name: str

    def prepare(self, settings: "Settings", mails: list["PreparedText"]) -> list[object | None]:
        """Return a picklable result per mail, or None for a mail with nothing to prepare."""

    def use(self, results: list[object]) -> ContextManager[None]:
        """Make the results available to the ingest step inside the block."""


class PublishCheck(Protocol):
    def __call__(self, text: str) -> list[str]:
        """Return the problems that forbid publishing `text`; empty when it may go public."""


@dataclass
class Registry:
    commands: list[click.Command] = field(default_factory=list)
    ingest_steps: list[IngestStep] = field(default_factory=list)
    ingest_annotators: list[IngestAnnotator] = field(default_factory=list)
    ingest_preparers: list[IngestPreparer] = field(default_factory=list)
    # Called with (settings) to queue a task; set by workers, absent in plain CLI use.
    task_dispatchers: dict[str, Callable[..., None]] = field(default_factory=dict)

    def add_command(self, command: click.Command) -> None:
        self.commands.append(command)

    def add_ingest_step(self, step: IngestStep) -> None:
        self.ingest_steps.append(step)

    def add_ingest_annotator(self, annotator: IngestAnnotator) -> None:
        self.ingest_annotators.append(annotator)

    def add_ingest_preparer(self, preparer: IngestPreparer) -> None:
        self.ingest_preparers.append(preparer)


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
