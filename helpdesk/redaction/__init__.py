"""Detection and removal of identifying details (names, addresses, numbers, handles...).

Public interface, used by ingestion, search, exports and the FAQ publication check:

- `detect(text)` returns the entities found, with offsets into `text`.
- `redact(text)` returns the text with each entity replaced by a Dutch placeholder.
- `publication_problems(text)` lists what forbids publishing `text`.
"""

from helpdesk.redaction.api import (
    ENTITY_TYPES,
    PLACEHOLDERS,
    Entity,
    Redacted,
    detect,
    publication_problems,
    redact,
)

__all__ = ["ENTITY_TYPES", "PLACEHOLDERS", "Entity", "Redacted", "detect", "publication_problems", "redact"]
