"""Lending results computed in other processes to a module's cache for the length of a block.

Ingestion prepares a batch in worker processes (helpdesk.ingest.prepare).
Redaction, the HTML part and the knowledge base each look results up in a
module-level dict by their input, so one helper adds and removes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager


@contextmanager
def lent(cache: MutableMapping, entries: Mapping) -> Iterator[None]:
    """Add `entries` to `cache` inside the block and remove their keys after it."""
    cache.update(entries)
    try:
        yield
    finally:
        for key in entries:
            cache.pop(key, None)
