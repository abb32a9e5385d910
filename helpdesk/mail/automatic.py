"""Recognising mail that a machine sent: auto-replies, bounces, lists and receipts.

A helpdesk that answers such mail risks mail loops and tickets that nobody
asked for, so each rule returns a short reason that is stored with the message.
"""

from __future__ import annotations

import re
from email.message import Message

from helpdesk.mail.headers import HeaderFields, header_text

AUTOMATIC_SENDERS = {"mailer-daemon", "mail-daemon", "mailerdaemon", "postmaster", "mailer_daemon"}
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list"}

# Out-of-office subjects sent without any of the headers above. A bare word
# such as "Absence" only counts when followed by a colon or nothing, because
# "Absence de règles" is a real question.
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:"
    r"auto(?:matic|matisch)?[ -]?(?:reply|response|antwoord|answer)|"
    r"automatisch antwoord|automatische (?:reactie|beantwoording)|réponse automatique|"
    r"out of (?:the )?office(?: reply| autoreply)?|afwezig(?:heid)?|niet aanwezig|"
    r"absent(?:e)?(?: du bureau)?|absence(?: du bureau)?|abwesenheitsnotiz|autoreply"
    r")\s*(?::|$)",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|onbestelbaar|non remis|"
    r"delivery status notification \(failure\)|mail delivery failed|"
    r"returned mail|failure notice|delivery failure|message not delivered|"
    r"niet bezorgd|échec de la remise)",
    re.IGNORECASE,
)


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].strip().lower()


def automatic_reason(message: Message, fields: HeaderFields, from_address: str, subject: str) -> str | None:
    """Return why `message` looks machine-sent, or None for mail a person wrote."""
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        report_type = str(message.get_param("report-type") or "").lower()
        if report_type == "disposition-notification":
            return "read-receipt"
        return "delivery-status"

    auto_submitted = header_text(fields, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";", 1)[0].strip() != "no":
        return f"auto-submitted:{auto_submitted.split(';', 1)[0].strip()[:40]}"

    for header, reason in (
        ("X-Autoreply", "x-autoreply"),
        ("X-Autorespond", "x-autorespond"),
        ("X-Auto-Response-Suppress", "x-auto-response-suppress"),
        ("X-Failed-Recipients", "bounce"),
    ):
        if header in fields:
            return reason

    precedence = header_text(fields, "Precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"precedence:{precedence}"
    if "List-Id" in fields:
        return "list-id"

    if _local_part(from_address) in AUTOMATIC_SENDERS:
        return "mailer-daemon"
    if header_text(fields, "Return-Path").strip() == "<>":
        return "null-return-path"

    if BOUNCE_SUBJECT.match(subject):
        return "bounce-subject"
    if AUTO_REPLY_SUBJECT.match(subject):
        return "auto-reply-subject"
    return None


def looks_like_bounce(reason: str | None) -> bool:
    """Return whether an automatic reason suggests a delivery failure report."""
    return reason in {"delivery-status", "mailer-daemon", "bounce", "bounce-subject", "null-return-path"}
