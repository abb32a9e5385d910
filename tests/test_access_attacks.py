"""Attacks on the staff area: other teams' tickets, roles, sessions, redirects and CSRF.

Each test plays an outsider or a signed-in member of team A and checks that
team B's tickets, other roles' pages and ended sessions stay out of reach.
"""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import select

from admin.app import create_app
from helpdesk.accounts import totp
from helpdesk.accounts.models import Role, User
from helpdesk.db import session_scope, utcnow
from helpdesk.teams import services as teams
from helpdesk.teams.models import Team
from helpdesk.tickets.models import DeliveryState, Direction, Message, Note, Ticket, TicketStatus
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    PASSWORD,
    admin_user,
    agent,
    agent_client,
    app,
    client,
    csrf_token,
    login,
    make_ticket,
    make_user,
)

SECRET_SUBJECT = "Vraag uit Gent over een boete"
SECRET_ANSWER = "Antwoord van team Gent over de boete"


@pytest.fixture
def editor(settings) -> int:
    return make_user(settings, "editor@helpdesk.test", Role.EDITOR, display_name="Redacteur Rik")


@pytest.fixture
def teams_setup(settings, agent, editor) -> dict[str, int]:
    """Team A with the agent and the editor, team B without them, a ticket of each and a sent answer on B's."""
    with session_scope(settings) as session:
        team_a = teams.create_team(session, "Antwerpen", None)
        team_b = teams.create_team(session, "Gent", None)
        teams.set_members(session, team_a, [agent, editor], None)
        ids = {"team_a": team_a.id, "team_b": team_b.id}
    ids["ticket_a"] = make_ticket(settings, "Vraag uit Antwerpen", team_id=ids["team_a"], message_id="a@client.example.net")
    ids["ticket_b"] = make_ticket(settings, SECRET_SUBJECT, "Ik kreeg een boete.", team_id=ids["team_b"], message_id="b@client.example.net")
    with session_scope(settings) as session:
        answer = Message(
            ticket_id=ids["ticket_b"],
            direction=Direction.OUTBOUND,
            message_id="answer-b@helpdesk.test",
            subject=f"Re: {SECRET_SUBJECT}",
            body=SECRET_ANSWER,
            new_text=SECRET_ANSWER,
            delivery_state=DeliveryState.SENT,
            sent_at=utcnow(),
        )
        session.add(answer)
        session.flush()
        ids["answer_b"] = answer.id
        ids["message_b"] = session.scalar(
            select(Message.id).where(Message.ticket_id == ids["ticket_b"], Message.direction == Direction.INBOUND)
        )
    return ids


@pytest.fixture
def editor_client(client, editor):
    response = login(client, "editor@helpdesk.test")
    assert response.status_code == 302
    return client


# Team B's tickets, reached by guessing ids


TICKET_ACTIONS = {
    "draft": {"body": "Mijn antwoord", "save": "1"},
    "send": {"body": "Mijn antwoord", "send": "1", "seen_reply": "0"},
    "note": {"body": "Ik kijk ernaar."},
    "assign": {"assignee": "0"},
    "status": {"status": "closed"},
    "merge": {"target": "0"},
    "reveal": {"message": "0", "reason": "controle van de redactie"},
    "raw": {"message": "0", "reason": "controle van de redactie"},
    "erase": {"reason": "verzoek van de cliënt", "confirm": "0"},
    "article": {"slug": "boetes", "action": "add"},
}


@pytest.mark.parametrize("action", sorted(TICKET_ACTIONS))
def test_agent_cannot_act_on_other_team_ticket(settings, agent_client, teams_setup, action):
    ticket_b = teams_setup["ticket_b"]
    # Ids the attacker can guess: team A's ticket as merge target, team B's own message and number.
    guessed = {"target": teams_setup["ticket_a"], "confirm": ticket_b, "message": teams_setup["message_b"]}
    data = {key: str(guessed[key]) if key in guessed else value for key, value in TICKET_ACTIONS[action].items()}
    path = "draft" if action == "send" else action
    data["csrf_token"] = csrf_token(agent_client, f"/admin/ticket/{teams_setup['ticket_a']}")

    response = agent_client.post(f"/admin/ticket/{ticket_b}/{path}", data=data)

    assert response.status_code == 404
    assert SECRET_SUBJECT not in response.get_data(as_text=True)
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_b)
        assert ticket.status == TicketStatus.NEW
        assert not ticket.draft
        assert session.scalars(select(Note)).all() == []


def test_agent_cannot_retry_other_team_message(agent_client, teams_setup):
    token = csrf_token(agent_client, f"/admin/ticket/{teams_setup['ticket_a']}")

    response = agent_client.post(f"/admin/ticket/{teams_setup['ticket_b']}/retry/{teams_setup['answer_b']}", data={"csrf_token": token})

    assert response.status_code == 404


def test_agent_cannot_merge_into_other_team_ticket(settings, agent_client, teams_setup):
    token = csrf_token(agent_client, f"/admin/ticket/{teams_setup['ticket_a']}")

    response = agent_client.post(
        f"/admin/ticket/{teams_setup['ticket_a']}/merge", data={"csrf_token": token, "target": str(teams_setup["ticket_b"])}
    )

    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_a"]).merged_into_id is None


def test_agent_cannot_merge_team_ticket_into_teamless(settings, agent_client, teams_setup):
    # Every agent sees a ticket without a team, so merging into one would show team A's mail to team B.
    teamless = make_ticket(settings, "Vraag zonder team", message_id="n@client.example.net")
    token = csrf_token(agent_client, f"/admin/ticket/{teams_setup['ticket_a']}")

    response = agent_client.post(f"/admin/ticket/{teams_setup['ticket_a']}/merge", data={"csrf_token": token, "target": str(teamless)})

    assert response.status_code == 302
    assert "Vraag een beheerder om ze samen te voegen." in agent_client.get(response.headers["Location"]).get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_a"]).merged_into_id is None


def test_agent_merges_teamless_ticket_into_team(settings, agent_client, teams_setup):
    teamless = make_ticket(settings, "Vraag zonder team", message_id="n@client.example.net")
    token = csrf_token(agent_client, f"/admin/ticket/{teamless}")

    agent_client.post(f"/admin/ticket/{teamless}/merge", data={"csrf_token": token, "target": str(teams_setup["ticket_a"])})

    with session_scope(settings) as session:
        assert session.get(Ticket, teamless).merged_into_id == teams_setup["ticket_a"]


def test_admin_merges_across_teams(settings, client, admin_user, teams_setup):
    assert login(client, "admin@helpdesk.test").status_code == 302
    token = csrf_token(client, f"/admin/ticket/{teams_setup['ticket_a']}")

    client.post(f"/admin/ticket/{teams_setup['ticket_a']}/merge", data={"csrf_token": token, "target": str(teams_setup["ticket_b"])})

    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_a"]).merged_into_id == teams_setup["ticket_b"]


def test_agent_cannot_assign_outsider(settings, agent_client, teams_setup):
    outsider = make_user(settings, "gent@helpdesk.test", Role.AGENT, display_name="Agent Gent")
    with session_scope(settings) as session:
        teams.set_members(session, session.get(Team, teams_setup["team_b"]), [outsider], None)
    token = csrf_token(agent_client, f"/admin/ticket/{teams_setup['ticket_a']}")

    agent_client.post(f"/admin/ticket/{teams_setup['ticket_a']}/assign", data={"csrf_token": token, "assignee": str(outsider)})

    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_a"]).assignee_id is None


def test_agent_cannot_move_ticket_to_own_team(settings, agent_client, teams_setup):
    token = csrf_token(agent_client, f"/admin/ticket/{teams_setup['ticket_a']}")

    response = agent_client.post(
        f"/admin/teams/ticket/{teams_setup['ticket_b']}/move", data={"csrf_token": token, "team": str(teams_setup["team_a"])}
    )

    assert response.status_code == 403
    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_b"]).team_id == teams_setup["team_b"]


@pytest.mark.parametrize("query", ["?search=boete", "?team=all&search=Gent", "?team=none", "?team={team_b}", "?sort=subject&desc=1"])
def test_queue_hides_other_team_tickets(agent_client, teams_setup, query):
    response = agent_client.get("/admin/queue/" + query.format(team_b=teams_setup["team_b"]))
    page = response.get_data(as_text=True)

    assert f'href="/admin/ticket/{teams_setup["ticket_b"]}"' not in page
    assert SECRET_SUBJECT not in page


def test_editor_list_hides_other_team_answers(editor_client, teams_setup):
    page = editor_client.get("/admin/editor/").get_data(as_text=True)

    assert SECRET_SUBJECT not in page
    assert f"message={teams_setup['answer_b']}" not in page


def test_editor_cannot_propose_from_other_team_answer(editor_client, teams_setup):
    page = editor_client.get(f"/admin/editor/new?message={teams_setup['answer_b']}").get_data(as_text=True)

    assert SECRET_ANSWER not in page
    assert "boete" not in page


def add_question_group(settings, ticket_ids: list[int], example: str) -> int:
    """Store a finished mining run with one question group over `ticket_ids` and return the group's id."""
    from kb.mining_models import MiningRun, QuestionGroup

    with session_scope(settings) as session:
        now = utcnow()
        run = MiningRun(finished_at=now, window_days=28, window_start=now - dt.timedelta(days=28), window_end=now)
        group = QuestionGroup(
            rank=1, size=len(ticket_ids), current_count=len(ticket_ids), previous_count=0, priority=1.0,
            label="boete", examples=[example], ticket_ids=ticket_ids,
        )
        run.groups.append(group)
        session.add(run)
        session.flush()
        return group.id


def test_editor_questions_hide_other_team_examples(settings, editor_client, teams_setup):
    add_question_group(settings, [teams_setup["ticket_a"], teams_setup["ticket_b"]], "Moet ik de boete in Gent betalen?")

    page = editor_client.get("/admin/questions/").get_data(as_text=True)

    assert "boete in Gent" not in page
    assert "boete" in page


def test_editor_questions_show_own_team_examples(settings, editor_client, teams_setup):
    add_question_group(settings, [teams_setup["ticket_a"]], "Moet ik de boete in Antwerpen betalen?")

    page = editor_client.get("/admin/questions/").get_data(as_text=True)

    assert "boete in Antwerpen" in page


def test_admin_sees_mixed_group_examples(settings, client, admin_user, teams_setup):
    group_id = add_question_group(settings, [teams_setup["ticket_a"], teams_setup["ticket_b"]], "Moet ik de boete in Gent betalen?")
    assert login(client, "admin@helpdesk.test").status_code == 302

    page = client.get("/admin/questions/").get_data(as_text=True)

    assert "boete in Gent" in page
    assert client.get(f"/admin/editor/new?group={group_id}").status_code == 200


def test_editor_cannot_propose_from_mixed_group(settings, editor_client, teams_setup):
    group_id = add_question_group(settings, [teams_setup["ticket_a"], teams_setup["ticket_b"]], "Moet ik de boete in Gent betalen?")

    response = editor_client.get(f"/admin/editor/new?group={group_id}")

    assert response.status_code == 404
    assert SECRET_ANSWER not in response.get_data(as_text=True)


def test_admin_sees_every_team_answer(client, admin_user, teams_setup):
    assert login(client, "admin@helpdesk.test").status_code == 302

    page = client.get("/admin/editor/").get_data(as_text=True)

    assert SECRET_SUBJECT in page
    assert SECRET_ANSWER in client.get(f"/admin/editor/new?message={teams_setup['answer_b']}").get_data(as_text=True)


# Roles


ADMIN_ONLY_REQUESTS = [
    ("GET", "/admin/users/"),
    ("GET", "/admin/users/new/"),
    ("GET", "/admin/users/edit/?id={editor}"),
    ("POST", "/admin/users/edit/?id={editor}"),
    ("POST", "/admin/users/new/"),
    ("POST", "/admin/users/action/"),
    ("POST", "/admin/users/delete/"),
    ("GET", "/admin/users/export/csv/"),
    ("GET", "/admin/users/ajax/lookup/?name=email&query=a"),
    ("GET", "/admin/teams/"),
    ("GET", "/admin/teams/{team_a}"),
    ("POST", "/admin/teams/{team_a}"),
    ("POST", "/admin/teams/create"),
    ("POST", "/admin/teams/routes"),
    ("GET", "/admin/audit/"),
]


@pytest.mark.parametrize(("method", "url"), ADMIN_ONLY_REQUESTS)
def test_editor_cannot_use_admin_pages(settings, editor_client, editor, teams_setup, method, url):
    url = url.format(editor=editor, team_a=teams_setup["team_a"])
    token = csrf_token(editor_client, "/admin/account/")
    data = {"csrf_token": token, "email": "editor@helpdesk.test", "role": "admin", "language": "nl", "active": "y", "name": "Eigen team", "members": str(editor)}

    response = editor_client.get(url) if method == "GET" else editor_client.post(url, data=data)

    assert response.status_code in {403, 404}
    with session_scope(settings) as session:
        assert session.get(User, editor).role == Role.EDITOR


MACRO_REQUESTS = [
    ("GET", "/admin/macros/"),
    ("GET", "/admin/macros/new/"),
    ("GET", "/admin/macros/edit/?id={macro}"),
    ("POST", "/admin/macros/new/"),
    ("POST", "/admin/macros/edit/?id={macro}"),
    ("POST", "/admin/macros/action/"),
    ("POST", "/admin/macros/delete/"),
    ("POST", "/admin/macros/ajax/update/"),
    ("GET", "/admin/macros/export/csv/"),
]


@pytest.mark.parametrize(("method", "url"), MACRO_REQUESTS)
def test_agent_cannot_use_macro_admin(settings, agent_client, method, url):
    from helpdesk.tickets.macros import Macro

    with session_scope(settings) as session:
        macro = Macro(title="Testen", language="nl", body="Je kunt je gratis laten testen.", active=True)
        session.add(macro)
        session.flush()
        macro_id = macro.id
    url = url.format(macro=macro_id)
    data = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "title": "Overgenomen", "language": "nl", "body": "b", "active": "y",
            "list_form_pk": str(macro_id), "action": "delete", "rowid": str(macro_id), "id": str(macro_id)}

    response = agent_client.get(url) if method == "GET" else agent_client.post(url, data=data)

    assert response.status_code == 403
    with session_scope(settings) as session:
        assert session.get(Macro, macro_id).title == "Testen"


def test_agent_cannot_use_editor_pages(settings, agent_client, teams_setup):
    token = csrf_token(agent_client, "/admin/account/")

    assert agent_client.get("/admin/questions/").status_code == 403
    assert agent_client.post("/admin/questions/run", data={"csrf_token": token}).status_code == 403
    assert agent_client.get(f"/admin/editor/new?message={teams_setup['answer_b']}").status_code == 403


def test_account_form_ignores_role_field(settings, agent_client, agent):
    token = csrf_token(agent_client, "/admin/account/")

    agent_client.post("/admin/account/language", data={"csrf_token": token, "language": "fr", "role": "admin", "active": "y"})

    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert user.role == Role.AGENT
        assert user.language == "fr"


# Sessions


def admin_signed_in(app):
    admin = app.test_client()
    assert login(admin, "admin@helpdesk.test").status_code == 302
    return admin


def agent_edit_form(admin, agent: int) -> dict[str, str]:
    """Return the agent's fields for the user admin form, with the active and reset boxes unticked."""
    return {
        "csrf_token": csrf_token(admin, f"/admin/users/edit/?id={agent}"),
        "email": "agent@helpdesk.test",
        "display_name": "Agent Anna",
        "role": "agent",
        "language": "nl",
    }


def test_totp_enable_ends_other_sessions(settings, app, agent_client, agent):
    other = app.test_client()
    assert login(other, "agent@helpdesk.test").status_code == 302
    agent_client.get("/admin/account/")
    with session_scope(settings) as session:
        secret = totp.unseal(settings, session.get(User, agent).totp_pending_secret)
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": pyotp.TOTP(secret).now()}

    agent_client.post("/admin/account/totp", data=form)

    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is not None
    assert agent_client.get("/admin/queue/").status_code == 200
    assert other.get("/admin/queue/").status_code == 302


def test_totp_disable_ends_other_sessions(settings, app, agent_client, agent):
    with session_scope(settings) as session:
        session.get(User, agent).totp_secret = totp.seal(settings, pyotp.random_base32())
    other = app.test_client()
    assert login(other, "agent@helpdesk.test", code=None).status_code == 401
    with session_scope(settings) as session:
        secret = totp.unseal(settings, session.get(User, agent).totp_secret)
    assert login(other, "agent@helpdesk.test", code=pyotp.TOTP(secret).now()).status_code == 302

    # The sign-in above used the current code, so turning TOTP off needs the next one.
    next_code = pyotp.TOTP(secret).at(utcnow() + dt.timedelta(seconds=30))
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": next_code}
    agent_client.post("/admin/account/totp/off", data=form)

    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is None
    assert agent_client.get("/admin/queue/").status_code == 200
    assert other.get("/admin/queue/").status_code == 302


def test_admin_totp_reset_ends_sessions(settings, app, agent_client, agent, admin_user):
    with session_scope(settings) as session:
        session.get(User, agent).totp_secret = totp.seal(settings, pyotp.random_base32())
    admin = admin_signed_in(app)
    form = {**agent_edit_form(admin, agent), "active": "y", "reset_totp": "y"}

    assert admin.post(f"/admin/users/edit/?id={agent}", data=form).status_code == 302

    assert agent_client.get("/admin/queue/").status_code == 302
    assert admin.get("/admin/queue/").status_code == 200


def test_totp_guessing_locks_account(settings, app):
    secret = pyotp.random_base32()
    make_user(settings, "totp@helpdesk.test", Role.AGENT, totp_secret=totp.seal(settings, secret))
    correct_code = pyotp.TOTP(secret).now()
    wrong_codes = [f"{(int(correct_code) + offset) % 1_000_000:06d}" for offset in range(500_000, 500_005)]

    # A fresh client per guess, as from another browser, and the password is right every time.
    statuses = [login(app.test_client(), "totp@helpdesk.test", code=code).status_code for code in wrong_codes]

    assert statuses == [401] * len(wrong_codes)
    assert login(app.test_client(), "totp@helpdesk.test", code=correct_code).status_code == 401
    with session_scope(settings) as session:
        assert session.scalar(select(User.locked_until).where(User.email == "totp@helpdesk.test")) is not None


def test_team_removal_ends_ticket_access(settings, agent_client, agent, teams_setup):
    assert agent_client.get(f"/admin/ticket/{teams_setup['ticket_a']}").status_code == 200
    with session_scope(settings) as session:
        teams.set_members(session, session.get(Team, teams_setup["team_a"]), [], None)

    assert agent_client.get(f"/admin/ticket/{teams_setup['ticket_a']}").status_code == 404


def test_reactivation_does_not_revive_old_session(settings, app, agent_client, agent, admin_user):
    admin = admin_signed_in(app)
    form = agent_edit_form(admin, agent)  # without "active", so the account is deactivated

    assert admin.post(f"/admin/users/edit/?id={agent}", data=form).status_code == 302
    assert agent_client.get("/admin/queue/").status_code == 302
    assert admin.post(f"/admin/users/edit/?id={agent}", data={**form, "active": "y"}).status_code == 302

    assert agent_client.get("/admin/queue/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "/%09/evil.example", "/%0d%0a/evil.example", "\\\\evil.example", "javascript:alert(1)"],
)
def test_login_next_stays_on_site(client, agent, target):
    token = csrf_token(client, "/admin/login")

    response = client.post(f"/admin/login?next={target}", data={"email": "agent@helpdesk.test", "password": "correct horse battery staple", "csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/queue/"


def test_logout_needs_csrf_token(agent_client):
    response = agent_client.post("/admin/logout")

    assert response.status_code == 400
    assert agent_client.get("/admin/queue/").status_code == 200


def test_every_staff_post_needs_csrf_token(settings, app, client, admin_user, teams_setup):
    assert login(client, "admin@helpdesk.test").status_code == 302
    ids = {"ticket_id": teams_setup["ticket_a"], "message_id": teams_setup["answer_b"], "team_id": teams_setup["team_a"], "article_id": 1, "image_id": 1}
    rules = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and rule.rule.startswith("/admin/") and rule.endpoint != "auth.login"]
    assert len(rules) > 30

    for rule in rules:
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", str(ids[name]))
        response = client.post(url, data={"body": "zonder token", "status": "closed", "team": "0", "name": "Nieuw"})
        assert response.status_code == 400, url

    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_a"]).status == TicketStatus.NEW
        assert session.get(Ticket, teams_setup["ticket_a"]).team_id == teams_setup["team_a"]
        assert session.scalars(select(Note)).all() == []
    assert client.get("/admin/queue/").status_code == 200


def test_method_override_header_is_ignored(settings, agent_client, teams_setup):
    response = agent_client.get(
        f"/admin/ticket/{teams_setup['ticket_a']}/status?status=closed", headers={"X-HTTP-Method-Override": "POST"}
    )

    assert response.status_code == 405
    with session_scope(settings) as session:
        assert session.get(Ticket, teams_setup["ticket_a"]).status == TicketStatus.NEW


def test_outsider_gets_no_ticket_data(settings, teams_setup):
    client = create_app(settings).test_client()

    for url in [f"/admin/ticket/{teams_setup['ticket_b']}", "/admin/queue/?search=boete", "/admin/stats/", "/admin/editor/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert re.match(r"/admin/login\?next=", response.headers["Location"]), url
