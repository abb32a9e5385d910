"""Detection and removal of identifying details (names, addresses, numbers, handles...).

Public interface, used by ingestion, search, exports and the FAQ publication check:

- `detect(text)` returns the entities found, with offsets into `text`.
- `redact(text)` returns the text with each entity replaced by a Dutch placeholder.
- `publication_problems(text)` lists what forbids publishing `text`.
- `redact_filename(name)` redacts an attachment filename and keeps it readable.
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
from helpdesk.redaction.filenames import redact_filename

__all__ = ["ENTITY_TYPES", "PLACEHOLDERS", "Entity", "Redacted", "detect", "publication_problems", "redact", "redact_filename"]
