"""Every stored code that staff see (history, delivery, urgency, audit log) is shown as a Dutch label."""

import ast
import html
import re
from pathlib import Path

import pytest

from admin.labels import AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS, DELIVERY_LABELS, EVENT_LABELS, PARSE_PROBLEM_LABELS, URGENCY_LABELS, describe_parse_problem
from helpdesk.accounts import services as accounts
from helpdesk.accounts.models import User
from helpdesk.db import session_scope
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.mail.problems import PROBLEM_CODES
from helpdesk.tickets.models import DeliveryState, Direction, Message, TicketEvent
from kb.urgency import REASON_PRIORITY
from tests.admin_fixtures import admin_user, agent, agent_client, app, client, login, make_ticket  # noqa: F401 (pytest fixtures)

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PACKAGES = ("helpdesk", "kb", "admin", "workers")


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argument(call: ast.Call, position: int, keyword: str) -> str | None:
    if len(call.args) > position:
        return _literal(call.args[position])
    return next((_literal(item.value) for item in call.keywords if item.arg == keyword), None)


def written_codes() -> dict[str, set[str]]:
    """Collect the event kinds, audit actions, object types and mail problems that the source code writes as literals."""
    codes = {"event": set(), "action": set(), "object": set(), "problem": set()}
    for package in SOURCE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                found = {
                    "record_event": {"event": _argument(node, 3, "kind")},
                    "add_event": {"event": _argument(node, 2, "kind")},
                    "TicketEvent": {"event": _argument(node, 99, "kind")},
                    "audit": {"action": _argument(node, 2, "action"), "object": _argument(node, 3, "object_type")},
                    "_audit": {"action": _argument(node, 2, "action")},
                    "AuditEntry": {"action": _argument(node, 99, "action"), "object": _argument(node, 99, "object_type")},
                }.get(name, {})
                for kind, code in found.items():
                    if code:
                        codes[kind].add(code)
                if name == "problem" and node.args:
                    # The code may be chosen by an expression, as in problem("date_invalid" if value else "date_missing").
                    codes["problem"] |= {_literal(item) for item in ast.walk(node.args[0])} - {None}
    return codes


def test_source_scan_finds_codes():
    codes = written_codes()

    assert {"created", "reply_sent", "quarantined"} <= codes["event"]
    assert {"login", "reveal", "erase"} <= codes["action"]
    assert {"user", "message", "ticket"} <= codes["object"]
    assert {"message_id_missing", "date_missing", "no_headers", "smime_encrypted"} <= codes["problem"]


def test_every_written_code_has_label():
    from kb.publishing import AUDITED_ACTIONS

    codes = written_codes()

    assert sorted(codes["event"] - EVENT_LABELS.keys()) == []
    assert sorted((codes["action"] | AUDITED_ACTIONS) - AUDIT_ACTION_LABELS.keys()) == []
    assert sorted((codes["object"] | {"article"}) - AUDIT_OBJECT_LABELS.keys()) == []
    assert sorted(set(DeliveryState) - DELIVERY_LABELS.keys()) == []
    assert sorted(set(REASON_PRIORITY) - URGENCY_LABELS.keys()) == []
    assert sorted(codes["problem"] - PROBLEM_CODES) == []
    assert sorted(PROBLEM_CODES - PARSE_PROBLEM_LABELS.keys()) == []


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


@pytest.mark.parametrize("reason", REASON_PRIORITY)
def test_urgency_reason_shown_as_label(agent_client, settings, reason):
    ticket_id = make_ticket(settings, urgent=True, urgent_reason=reason)

    page = agent_client.get(f"/admin/ticket/{ticket_id}").get_data(as_text=True)

    badge = re.search(r'<span class="urgent">(.*?)</span>', page, re.S)
    assert badge, "no urgency badge on the ticket page"
    assert reason not in badge.group(1)
    assert str(URGENCY_LABELS[reason]) in text_of(badge.group(1))


def test_history_and_delivery_show_labels(agent_client, settings):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        for kind in sorted(written_codes()["event"] | EVENT_LABELS.keys()):
            session.add(TicketEvent(ticket_id=ticket_id, kind=kind, detail={}))
        for state in DeliveryState:
            session.add(
                Message(ticket_id=ticket_id, direction=Direction.OUTBOUND, message_id=f"{state.value}@helpdesk.test", body="x", delivery_state=state)
            )

    page = agent_client.get(f"/admin/ticket/{ticket_id}").get_data(as_text=True)

    history = text_of(page.split('<ol class="history">', 1)[1].split("</ol>", 1)[0])
    for kind in EVENT_LABELS:
        assert kind not in history
        assert str(EVENT_LABELS[kind]) in history
    badges = dict(re.findall(r'<span class="delivery delivery-(\w+)">([^<]*)</span>', page))
    for state in DeliveryState:
        assert badges.get(state.value) == str(DELIVERY_LABELS[state])


def test_audit_log_shows_labels(client, settings, admin_user):
    actions = sorted(AUDIT_ACTION_LABELS)
    objects = sorted(AUDIT_OBJECT_LABELS)
    with session_scope(settings) as session:
        admin = session.get(User, admin_user)
        for index, action in enumerate(actions):
            accounts.audit(session, admin, action, objects[index % len(objects)], index + 1)
    login(client, "admin@helpdesk.test")

    page = client.get("/admin/audit/").get_data(as_text=True)

    rows = re.findall(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", page)
    shown_actions = {cell for cell, _ in rows}
    shown_objects = {cell for _, cell in rows}
    for action in actions:
        assert str(AUDIT_ACTION_LABELS[action]) in shown_actions
    assert shown_actions <= {str(label) for label in AUDIT_ACTION_LABELS.values()}
    assert shown_objects <= {str(label) for label in AUDIT_OBJECT_LABELS.values()}
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', page)
    for code, text in options:
        if code in AUDIT_ACTION_LABELS or code in AUDIT_OBJECT_LABELS:
            assert text in (str(AUDIT_ACTION_LABELS.get(code)), str(AUDIT_OBJECT_LABELS.get(code)))


def test_parse_problems_shown_with_details(app):
    stored = "message_id_missing; charset_missing:cp1252; text/plain: kept as stored"

    with app.test_request_context():
        shown = describe_parse_problem(stored)

    assert shown == (
        "Message-ID ontbreekt of is ongeldig, dus afgeleid van de ruwe bytes; "
        "geen tekenset opgegeven, gelezen als cp1252; text/plain: kept as stored"
    )


def test_worker_failure_reasons_shown_as_labels(app):
    # "ingest failed (...)" is how earlier versions stored a failure outside the mail itself.
    with app.test_request_context():
        current = describe_parse_problem("ingest_failed:DataError")
        earlier = describe_parse_problem("ingest failed (DataError)")

    assert current == earlier == "verwerking mislukt (DataError)"


def test_mail_without_headers_shows_dutch_label(agent_client, settings):
    with session_scope(settings) as session:
        ticket_id = ingest_raw(session, settings, b"boodschappen\nmelk\nbrood\n").ticket_id

    page = " ".join(text_of(agent_client.get(f"/admin/ticket/{ticket_id}").get_data(as_text=True)).split())

    assert "Reden: geen leesbare e-mail: geen kopregels gevonden" in page
    assert "Probleem bij het lezen: Message-ID ontbreekt of is ongeldig" in page
    assert "no_headers" not in page
    assert "message_id_missing" not in page
