"""The queue's "Toegewezen aan: mij" filter (?assignee=me) shows the tickets of the user who views it."""

from tests.admin_fixtures import agent, agent_client, app, client, login, make_ticket, make_user  # noqa: F401 (pytest fixtures)
from tests.test_admin_queue import queue_ids


def test_assignee_me_lists_own_tickets(agent_client, agent, settings):
    other = make_user(settings, "ander@helpdesk.test", display_name="Andere Medewerker")
    mine = make_ticket(settings, "Mijn ticket", assignee_id=agent)
    make_ticket(settings, "Ticket van een ander", assignee_id=other)
    make_ticket(settings, "Ticket van niemand")

    assert queue_ids(agent_client, "?assignee=me") == [mine]


def test_assignee_me_follows_viewer(client, agent, settings):
    other = make_user(settings, "ander@helpdesk.test", display_name="Andere Medewerker")
    make_ticket(settings, "Ticket van de agent", assignee_id=agent)
    theirs = make_ticket(settings, "Ticket van een ander", assignee_id=other)

    login(client, "ander@helpdesk.test")

    assert queue_ids(client, "?assignee=me") == [theirs]


def test_assignee_me_option_selected(agent_client, agent, settings):
    make_ticket(settings, assignee_id=agent)

    page = agent_client.get("/admin/queue/?assignee=me").get_data(as_text=True)

    assert '<option value="me" selected>mij</option>' in page


def test_assignee_me_kept_in_links(agent_client, agent, settings):
    make_ticket(settings, assignee_id=agent)

    page = agent_client.get("/admin/queue/?assignee=me").get_data(as_text=True)

    assert 'href="/admin/queue/?assignee=me&amp;sort=id"' in page
