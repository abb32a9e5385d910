"""Calendar invitations (text/calendar): a short readable summary for staff."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from helpdesk.mail.problems import problem

METHOD_LABELS = {
    "REQUEST": "Uitnodiging",
    "CANCEL": "Annulering",
    "REPLY": "Antwoord op uitnodiging",
}
DEFAULT_LABEL = "Agenda-item"


def _format_time(value: object) -> str:
    moment = getattr(value, "dt", value)
    if isinstance(moment, dt.datetime):
        return moment.strftime("%Y-%m-%d %H:%M %Z").strip()
    if isinstance(moment, dt.date):
        return moment.isoformat()
    return str(moment)


def calendar_summary(text: str) -> tuple[str, str | None]:
    """Return the invitation's events as Dutch text lines, and a problem when unreadable."""
    try:
        calendar = Calendar.from_ical(text)
        method = str(calendar.get("METHOD", "")).upper()
        label = METHOD_LABELS.get(method, DEFAULT_LABEL)

        lines: list[str] = []
        for event in calendar.walk("VEVENT"):
            lines.append(f"{label}: {event.get('SUMMARY', '')}".rstrip())
            if event.get("DTSTART") is not None:
                lines.append(f"Begin: {_format_time(event.get('DTSTART'))}")
            if event.get("DTEND") is not None:
                lines.append(f"Einde: {_format_time(event.get('DTEND'))}")
            if event.get("LOCATION"):
                lines.append(f"Plaats: {event.get('LOCATION')}")
            if event.get("DESCRIPTION"):
                lines.append(str(event.get("DESCRIPTION")).strip())
    except Exception as error:  # noqa: BLE001 - icalendar raises ValueError and others on broken files
        return "", problem("calendar_unreadable", type(error).__name__)
    return "\n".join(lines), None
