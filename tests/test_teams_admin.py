"""Teams in the staff workplace: who sees and opens which ticket, the team filter, moving tickets and the team screens."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import AuditEntry
from helpdesk.db import session_scope
from helpdesk.teams import services
from helpdesk.teams.models import MailboxRoute, Team
from helpdesk.tickets.models import Note, Ticket
from helpdesk.tickets.statistics import compute_statistics
from helpdesk.teams.access import visible_condition
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    admin_user,
    agent,
    agent_client,
    app,
    client,
    csrf_token,
    load_user,
    login,
    make_ticket,
    make_user,
)

ROW_REFERENCE = re.compile(r'href="/admin/ticket/(\d+)">\[#\d+\]</a>')


def queue_ids(client, query: str = "") -> list[int]:
    response = client.get(f"/admin/queue/{query}")
    assert response.status_code == 200
    return sorted(int(ticket_id) for ticket_id in ROW_REFERENCE.findall(response.get_data(as_text=True)))


@pytest.fixture
def teams(settings, agent) -> dict[str, int]:
    """Team A (with the agent as member) and team B, and one ticket of each plus one without a team."""
    with session_scope(settings) as session:
        team_a = services.create_team(session, "Antwerpen", None)
        team_b = services.create_team(session, "Gent", None)
        services.set_members(session, team_a, [agent], None)
        ids = {"team_a": team_a.id, "team_b": team_b.id}
    ids["ticket_a"] = make_ticket(settings, "Vraag uit Antwerpen", team_id=ids["team_a"], message_id="a@client.example.net")
    ids["ticket_b"] = make_ticket(settings, "Vraag uit Gent", team_id=ids["team_b"], message_id="b@client.example.net")
    ids["ticket_none"] = make_ticket(settings, "Vraag zonder team", message_id="n@client.example.net")
    return ids


@pytest.fixture
def admin_client(client, admin_user):
    response = login(client, "admin@helpdesk.test")
    assert response.status_code == 302
    return client


def test_agent_opens_own_and_teamless_tickets(agent_client, teams):
    assert agent_client.get(f"/admin/ticket/{teams['ticket_a']}").status_code == 200
    assert agent_client.get(f"/admin/ticket/{teams['ticket_none']}").status_code == 200


def test_agent_cannot_open_other_team_ticket(agent_client, teams):
    response = agent_client.get(f"/admin/ticket/{teams['ticket_b']}")

    assert response.status_code == 404
    assert "Vraag uit Gent" not in response.get_data(as_text=True)


def test_agent_cannot_post_on_other_team_ticket(settings, agent_client, teams):
    token = csrf_token(agent_client, f"/admin/ticket/{teams['ticket_a']}")

    response = agent_client.post(f"/admin/ticket/{teams['ticket_b']}/note", data={"csrf_token": token, "body": "Ik kijk ernaar."})

    assert response.status_code == 404
    with session_scope(settings) as session:
        assert session.scalars(select(Note)).all() == []


def test_agent_queue_hides_other_team(agent_client, teams):
    assert queue_ids(agent_client) == sorted([teams["ticket_a"], teams["ticket_none"]])
    assert queue_ids(agent_client, "?team=all") == sorted([teams["ticket_a"], teams["ticket_none"]])
    assert queue_ids(agent_client, f"?team={teams['team_b']}") == []


def test_agent_search_hides_other_team(agent_client, teams):
    assert queue_ids(agent_client, "?team=all&search=Gent") == []
    assert queue_ids(agent_client, f"?team=all&search=%23{teams['ticket_b']}") == []
    assert queue_ids(agent_client, "?team=all&search=Antwerpen") == [teams["ticket_a"]]


def test_queue_team_filter_defaults_to_mine(agent_client, teams):
    page = agent_client.get("/admin/queue/").get_data(as_text=True)

    assert '<option value="mine" selected>' in page
    assert ">Antwerpen</option>" in page
    assert ">Gent</option>" not in page


def test_queue_team_filter_rejects_unknown_value(agent_client, teams):
    response = agent_client.get("/admin/queue/?team=iedereen")

    assert response.status_code == 400
    assert "iedereen" in response.get_data(as_text=True)


def test_queue_without_teams_shows_everything(settings, agent_client):
    first = make_ticket(settings, "Eerste vraag", message_id="1@client.example.net")
    second = make_ticket(settings, "Tweede vraag", message_id="2@client.example.net")

    assert queue_ids(agent_client) == sorted([first, second])
    assert 'name="team"' not in agent_client.get("/admin/queue/").get_data(as_text=True)


def test_admin_sees_every_team(admin_client, teams):
    assert queue_ids(admin_client) == sorted([teams["ticket_a"], teams["ticket_b"], teams["ticket_none"]])
    assert queue_ids(admin_client, f"?team={teams['team_b']}") == [teams["ticket_b"]]
    assert queue_ids(admin_client, "?team=none") == [teams["ticket_none"]]
    assert admin_client.get(f"/admin/ticket/{teams['ticket_b']}").status_code == 200


def test_admin_moves_ticket(settings, admin_client, admin_user, teams):
    url = f"/admin/ticket/{teams['ticket_b']}"
    token = csrf_token(admin_client, url)

    response = admin_client.post(f"/admin/teams/ticket/{teams['ticket_b']}/move", data={"csrf_token": token, "team": teams["team_a"]})

    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.get(Ticket, teams["ticket_b"]).team_id == teams["team_a"]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "move")).one()
        assert entry.user_id == admin_user
    page = admin_client.get(url).get_data(as_text=True)
    assert "Gent → Antwerpen" in page


def test_moved_ticket_opens_for_new_team(settings, app, admin_client, agent, teams):
    token = csrf_token(admin_client, f"/admin/ticket/{teams['ticket_b']}")
    admin_client.post(f"/admin/teams/ticket/{teams['ticket_b']}/move", data={"csrf_token": token, "team": teams["team_a"]})
    agent_client = app.test_client()

    response = login(agent_client, "agent@helpdesk.test")

    assert response.status_code == 302
    assert agent_client.get(f"/admin/ticket/{teams['ticket_b']}").status_code == 200


def test_agent_cannot_move_ticket(settings, agent_client, teams):
    token = csrf_token(agent_client, f"/admin/ticket/{teams['ticket_a']}")

    response = agent_client.post(f"/admin/teams/ticket/{teams['ticket_a']}/move", data={"csrf_token": token, "team": teams["team_b"]})

    assert response.status_code == 403
    with session_scope(settings) as session:
        assert session.get(Ticket, teams["ticket_a"]).team_id == teams["team_a"]


def test_agent_cannot_open_team_screens(agent_client):
    assert agent_client.get("/admin/teams/").status_code == 403


def test_ticket_page_hides_other_team_of_same_client(agent_client, teams):
    page = agent_client.get(f"/admin/ticket/{teams['ticket_a']}").get_data(as_text=True)

    assert f"/admin/ticket/{teams['ticket_none']}" in page
    assert f"/admin/ticket/{teams['ticket_b']}" not in page
    assert "Team: Antwerpen" in page


def test_merge_into_other_team_rejected(settings, agent_client, teams):
    token = csrf_token(agent_client, f"/admin/ticket/{teams['ticket_a']}")

    response = agent_client.post(
        f"/admin/ticket/{teams['ticket_a']}/merge", data={"csrf_token": token, "target": teams["ticket_b"]}, follow_redirects=True
    )

    assert f"Ticket #{teams['ticket_b']} bestaat niet" in response.get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.get(Ticket, teams["ticket_a"]).merged_into_id is None


def test_statistics_count_visible_tickets(settings, agent, admin_user, teams):
    with session_scope(settings) as session:
        agent_row = load_user(settings, agent)
        admin_row = load_user(settings, admin_user)
        for_agent = compute_statistics(session, 4, "Europe/Brussels", scope=visible_condition(session, agent_row))
        for_admin = compute_statistics(session, 4, "Europe/Brussels", scope=visible_condition(session, admin_row))

    assert sum(for_agent.backlog.values()) == 2
    assert sum(for_admin.backlog.values()) == 3


def test_admin_creates_team_and_routes_mailbox(settings, admin_client, agent):
    mailbox = settings.mailbox_urls[0].removeprefix("maildir:")
    token = csrf_token(admin_client, "/admin/teams/")

    created = admin_client.post("/admin/teams/create", data={"csrf_token": token, "name": "Brussel"})
    with session_scope(settings) as session:
        team_id = session.scalars(select(Team.id).where(Team.name == "Brussel")).one()
    members = admin_client.post(f"/admin/teams/{team_id}", data={"csrf_token": token, "name": "Brussel", "members": [str(agent)]})
    routed = admin_client.post("/admin/teams/routes", data={"csrf_token": token, "mailbox": f"maildir:{mailbox}", "team": str(team_id)})

    assert created.status_code == 302
    assert members.status_code == 302
    assert routed.status_code == 302
    with session_scope(settings) as session:
        team = session.get(Team, team_id)
        assert [member.id for member in team.members] == [agent]
        assert [route.mailbox for route in team.routes] == [f"maildir:{mailbox}"]
    page = admin_client.get("/admin/teams/").get_data(as_text=True)
    assert "Brussel" in page
    assert "Agent Anna" in page


def test_route_for_unknown_mailbox_rejected(settings, admin_client, teams):
    token = csrf_token(admin_client, "/admin/teams/")

    response = admin_client.post(
        "/admin/teams/routes",
        data={"csrf_token": token, "mailbox": "maildir:/elders", "team": str(teams["team_a"])},
        follow_redirects=True,
    )

    assert "maildir:/elders is niet ingesteld" in response.get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.scalars(select(MailboxRoute)).all() == []


def test_team_with_tickets_kept_on_delete(settings, admin_client, teams):
    token = csrf_token(admin_client, "/admin/teams/")

    response = admin_client.post(f"/admin/teams/{teams['team_b']}/delete", data={"csrf_token": token}, follow_redirects=True)

    assert "verplaats ze eerst" in response.get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.get(Team, teams["team_b"]) is not None


def test_duplicate_team_name_shows_error(admin_client, teams):
    token = csrf_token(admin_client, "/admin/teams/")

    response = admin_client.post("/admin/teams/create", data={"csrf_token": token, "name": "gent"}, follow_redirects=True)

    assert "Er bestaat al een team" in response.get_data(as_text=True)



def backlog_new(page: str) -> str:
    match = re.search(r'status=new">[^<]+</a></th><td>([^<]+)</td>', page)
    assert match, "no row for new tickets in the backlog table"
    return match.group(1)


def test_statistics_page_filters_by_team(admin_client, teams):
    everything = admin_client.get("/admin/stats/").get_data(as_text=True)
    team_b = admin_client.get(f"/admin/stats/?team={teams['team_b']}").get_data(as_text=True)

    assert backlog_new(everything) == "3"
    assert backlog_new(team_b) == "1"
    assert f'src="/admin/stats/backlog.svg?team={teams["team_b"]}"' in team_b


def test_statistics_page_hides_other_team_for_agent(agent_client, teams):
    page = agent_client.get(f"/admin/stats/?team={teams['team_b']}").get_data(as_text=True)

    assert backlog_new(agent_client.get("/admin/stats/").get_data(as_text=True)) == "2"
    assert backlog_new(page) == "0"
    assert ">Gent</a>" not in page


def test_assign_list_offers_team_members_only(settings, agent_client, teams):
    make_user(settings, "gent@helpdesk.test", display_name="Gentse Greet")

    page = agent_client.get(f"/admin/ticket/{teams['ticket_a']}").get_data(as_text=True)

    assert "Agent Anna" in page
    assert "Gentse Greet" not in page


def test_queue_shows_team_column(admin_client, teams):
    page = admin_client.get("/admin/queue/?team=all").get_data(as_text=True)

    assert '<th scope="col">Team</th>' in page
    assert "<td>Gent</td>" in page
    assert "<td>Antwerpen</td>" in page
