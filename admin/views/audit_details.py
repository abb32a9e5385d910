"""The Details column of the audit log: each stored key and known value as a Dutch label, ids as names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin.db import db
from admin.i18n import LANGUAGE_NAMES
from admin.labels import AUDIT_DETAIL_LABELS, AUDIT_DETAIL_VALUE_LABELS
from admin.views.queue import user_names
from helpdesk.accounts.models import Role

TEAM_KEYS = frozenset({"from", "to", "from_team", "to_team"})
USER_LIST_KEYS = frozenset({"added", "removed"})
CODED_KEYS = frozenset({"change", "failure", "via"})


def team_names() -> dict[int, str]:
    from helpdesk.teams.models import Team

    return {row.id: row.name for row in db().execute(select(Team.id, Team.name))}


def describe_detail(detail: dict | None, teams: dict[int, str]) -> list[tuple[str, str]]:
    """Return (label, value) pairs for the audit log. A key or value without a label is shown as stored."""
    from admin.views.staff import ROLE_LABELS

    pairs = []
    for key, value in (detail or {}).items():
        label = str(AUDIT_DETAIL_LABELS.get(key, key))
        if key in TEAM_KEYS:
            text = str(_l("geen team")) if value is None else teams.get(value, f"#{value}")
        elif key in USER_LIST_KEYS:
            names = [user_names().get(user_id, f"#{user_id}") for user_id in value or []]
            text = ", ".join(names) or str(_l("niemand"))
        elif key in CODED_KEYS:
            text = str(AUDIT_DETAIL_VALUE_LABELS.get(value, value))
        elif key == "role" and value in {role.value for role in Role}:
            text = str(ROLE_LABELS[value])
        elif key == "language":
            text = LANGUAGE_NAMES.get(value, value)
        elif key == "ticket_id" or key == "source_id":
            text = f"#{value}"
        elif isinstance(value, bool):
            text = str(_l("ja")) if value else str(_l("nee"))
        else:
            text = str(value)
        pairs.append((label, text))
    return pairs
