"""Urgency rules: a recent risk (PEP within 72 hours), a suspected minor, acute danger."""

import datetime as dt

import pytest

from kb.urgency import DANGER, MINOR, PEP_WINDOW, assess_urgency

# Mail in these tests arrives on a Monday, so "zaterdag" is two days back.
MONDAY = dt.date(2026, 11, 2)


@pytest.mark.parametrize(
    "text",
    [
        "Gisteravond is het condoom gescheurd bij een escort. Wat moet ik doen?",
        "Het condoom schoof eraf tijdens de seks. Moet ik me zorgen maken?",  # no date: assume it just happened
        "Vannacht seks gehad zonder condoom in een privéhuis, ik ben bang voor hiv.",
        "Zaterdag was ik bij een dame en het kapotje is gesprongen.",
        "Le préservatif a craqué hier soir, que dois-je faire ?",
        "The condom broke last night with an escort. Am I at risk?",
        "I had unprotected sex two days ago. What now?",
        "Ik heb me vanmorgen geprikt aan een naald in de hotelkamer.",
        "Ik weet niet meer of we een condoom gebruikt hebben, het was gisteren.",
    ],
)
def test_recent_risk_is_pep_window(text):
    urgency = assess_urgency(text, received=MONDAY)
    assert urgency.urgent
    assert PEP_WINDOW in urgency.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Wat moet ik doen als een condoom scheurt?",  # a "what if"
        "Drie weken geleden is het condoom gescheurd. Wanneer moet ik me laten testen?",
        "Hoe riskant is seks zonder condoom met een sekswerker?",
        "Vorige maand had ik onbeschermde seks. Is een test nu betrouwbaar?",
        "What should I do if a condom breaks?",
        "Waar kan ik me anoniem laten testen?",
    ],
)
def test_old_or_hypothetical_risk_is_not_urgent(text):
    assert PEP_WINDOW not in assess_urgency(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "Het meisje in de bar leek me echt te jong, misschien 16.",
        "Ze zei dat ze 17 was. Wat moet ik doen?",
        "Ik denk dat de escort minderjarig was.",
        "Elle avait l'air très jeune, moins de 18 ans je pense.",
        "The girl looked very young, I think she was underage.",
    ],
)
def test_suspected_minor(text):
    assert MINOR in assess_urgency(text).reasons


def test_general_question_about_minors_is_not_urgent():
    assert not assess_urgency("Wat als ik vermoed dat een sekswerker minderjarig is?").urgent


@pytest.mark.parametrize(
    "text",
    [
        "Ze wordt nu geslagen door haar pooier, ik hoor het door de muur.",
        "Een vrouw zit opgesloten in het appartement naast het mijne.",
        "Ik wil er een einde aan mijn leven maken.",
        "She is in danger, he has a knife and threatened her.",
        "Elle est enfermée dans l'appartement et elle a peur.",
    ],
)
def test_acute_danger(text):
    urgency = assess_urgency(text)
    assert DANGER in urgency.reasons
    assert urgency.reason == DANGER  # danger comes first


def test_everyday_question_is_not_urgent():
    urgency = assess_urgency("Hoeveel kost een soa-test bij de huisarts?")
    assert not urgency.urgent
    assert urgency.reason is None


def test_several_reasons_keep_priority_order():
    urgency = assess_urgency("Gisteren scheurde het condoom. Het meisje leek ook te jong.")
    assert urgency.reasons == (PEP_WINDOW, MINOR)


def test_written_date_is_compared_with_arrival_day():
    text = "Op zaterdag 3 februari scheurde het condoom bij een escort. Wanneer kan ik testen?"
    assert PEP_WINDOW not in assess_urgency(text, received=dt.date(2026, 11, 2)).reasons
    assert PEP_WINDOW in assess_urgency(text, received=dt.date(2026, 2, 4)).reasons


def test_stated_adult_age_clears_young_look():
    assert MINOR not in assess_urgency("Ze zag er heel jong uit, maar ze zei dat ze 23 was.").reasons


def test_suspected_confinement_is_not_acute_danger():
    text = "Volgens mij worden die vrouwen in dat huis vastgehouden. Aan wie geef ik dat door?"
    assert DANGER not in assess_urgency(text).reasons


def test_violence_happening_now_is_danger():
    assert DANGER in assess_urgency("Ik zie net dat een man een vrouw in een auto duwt, ze huilt. Bel ik 112?").reasons


def test_advert_age_keeps_minor_suspicion():
    text = "Het meisje op de foto's ziet er heel jong uit, het profiel op de site zegt 19. Hoe kan ik dat nagaan?"
    assert MINOR in assess_urgency(text).reasons


def test_quantity_is_not_an_age():
    assert MINOR not in assess_urgency("Only 17 percent of schools offer it, was 16% last year.").reasons


def test_weekday_is_counted_back_from_arrival():
    text = "Zaterdag is het condoom gescheurd bij een escort. Wat nu?"
    assert PEP_WINDOW in assess_urgency(text, received=MONDAY).reasons  # two days ago
    friday = dt.date(2026, 11, 6)
    assert PEP_WINDOW not in assess_urgency(text, received=friday).reasons  # six days ago


def test_numeric_date_is_read_day_first():
    text = "Op 31/10 scheurde het condoom. Wat moet ik doen?"
    assert PEP_WINDOW in assess_urgency(text, received=MONDAY).reasons  # two days before 2 November
    assert PEP_WINDOW not in assess_urgency("Op 12/10 scheurde het condoom.", received=MONDAY).reasons
