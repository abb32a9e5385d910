"""Queue and statistics answer an invalid filter value with status 400 and a Dutch message naming it."""

import html

import pytest

from tests.admin_fixtures import agent, agent_client, app, client, make_ticket  # noqa: F401 (pytest fixtures)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?older_than=abc", "Ouder dan (dagen) 'abc' is ongeldig"),
        ("?older_than=-1", "Ouder dan (dagen) '-1' is ongeldig"),
        ("?status=bogus", "Status 'bogus' bestaat niet"),
    ],
)
def test_queue_rejects_bad_filter(agent_client, settings, query, message):
    make_ticket(settings)

    response = agent_client.get(f"/admin/queue/{query}")

    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?weeks=abc", "Periode 'abc' is ongeldig: kies 4, 12, 26, 52 weken."),
        ("?weeks=-5", "Periode '-5' is ongeldig"),
        ("?weeks=13", "Periode '13' is ongeldig"),
        ("?team=bogus", "Team 'bogus' bestaat niet: kies een team uit de lijst."),
    ],
)
def test_stats_rejects_bad_filter(agent_client, settings, query, message):
    make_ticket(settings)

    response = agent_client.get(f"/admin/stats/{query}")

    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("url", ["/admin/stats/themes.svg?weeks=abc", "/admin/stats/backlog.svg?team=bogus"])
def test_stats_chart_rejects_bad_filter(agent_client, url):
    response = agent_client.get(url)

    assert response.status_code == 400
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("query", ["", "?weeks=4", "?weeks=52", "?team=all"])
def test_stats_accepts_offered_values(agent_client, query):
    assert agent_client.get(f"/admin/stats/{query}").status_code == 200
