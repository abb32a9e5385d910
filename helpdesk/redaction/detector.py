"""Run every finder over a text and keep one entity per stretch of text.

When spans overlap, the longer span wins. So the outer identifier wins over
the one inside it: an e-mail address over the name in it, a URL over a phone
number in it, an address over a street named after a person. Spans of equal
length go to the type ranked first in TYPE_RANK.
"""

from __future__ import annotations

from sortedcontainers import SortedKeyList

from helpdesk.redaction.addresses import find_addresses
from helpdesk.redaction.birthdates import find_birthdates
from helpdesk.redaction.contacts import find_emails, find_handles, find_ip_addresses, find_urls
from helpdesk.redaction.entities import Entity
from helpdesk.redaction.identifiers import find_ibans, find_national_ids
from helpdesk.redaction.names import find_names
from helpdesk.redaction.phones import find_phones
from helpdesk.redaction.plates import find_plates

# Lower rank wins an overlap between spans of equal length.
TYPE_RANK = {
    "EMAIL": 0,
    "URL": 1,
    "IP_ADDRESS": 2,
    "IBAN": 3,
    "NATIONAL_ID": 4,
    "PHONE": 5,
    "DATE_OF_BIRTH": 6,
    "LICENSE_PLATE": 7,
    "ADDRESS": 8,
    "HANDLE": 9,
    "PERSON": 10,
}
FINDERS = (
    find_emails,
    find_urls,
    find_ip_addresses,
    find_ibans,
    find_national_ids,
    find_phones,
    find_birthdates,
    find_plates,
    find_addresses,
    find_handles,
    find_names,
)


def resolve_overlaps(candidates: list[Entity]) -> list[Entity]:
    """Keep the longest, then highest-ranked, of overlapping entities; return them sorted.

    Runs in O(n log n) for n candidates, because a text full of details
    (a long list of phone numbers) gives hundreds of thousands of them.
    """
    ordered = sorted(candidates, key=lambda entity: (entity.start - entity.end, TYPE_RANK[entity.type], entity.start))
    kept = SortedKeyList(key=lambda entity: entity.start)
    for candidate in ordered:
        if candidate.end <= candidate.start:
            continue
        if _overlaps_kept(kept, candidate):
            continue
        kept.add(candidate)
    return list(kept)


def _overlaps_kept(kept: SortedKeyList, candidate: Entity) -> bool:
    # Kept spans never overlap, so sorted by start they are sorted by end too. Of
    # the spans that start before the candidate ends, the last one reaches
    # furthest, and only it needs checking.
    before_end = kept.bisect_key_left(candidate.end)
    return before_end > 0 and kept[before_end - 1].end > candidate.start


def detect_entities(text: str) -> list[Entity]:
    """Return the identifying details in `text`, sorted and not overlapping."""
    candidates: list[Entity] = []
    for finder in FINDERS:
        candidates.extend(finder(text))
    return resolve_overlaps(candidates)
