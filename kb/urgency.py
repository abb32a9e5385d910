"""Urgency: questions that staff must see first.

- `pep-window`: a risk (torn or slipped condom, unprotected sex, a needle) in the
  last 72 hours, because PEP against hiv must start within 72 hours.
- `minor`: the client suspects that a sex worker is under 18.
- `danger`: someone is in acute danger (violence, confinement, suicide).

A missed PEP window costs more than a false alarm, so a condom incident or
needle injury reported without any date counts as recent. Questions that only ask
"what if" get no urgency unless they also name a recent moment.
Patterns run on accent-folded, lower-case text (kb.text.fold).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from kb.text import fold, split_sentences

PEP_WINDOW = "pep-window"
MINOR = "minor"
DANGER = "danger"
# When several apply, the ticket shows the first of this order.
REASON_PRIORITY = (DANGER, PEP_WINDOW, MINOR)
# PEP must start within 72 hours of the risk.
PEP_WINDOW_DAYS = 3


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


_CONDOM = r"(?:condoom|condooms|kapotje|preservatief|rubber|preservatif|capote|condom)"
_FAILED = (
    r"(?:gescheurd\w*|scheurde\w*|gescheurt|kapot\w*|afgegleden|afgeschoven|afgezakt|gesprongen|geknapt|lek\w*"
    r"|eraf|los gekomen|losgekomen|bleef (?:zitten|steken)|erin gebleven"
    r"|craque\w*|dechire\w*|casse\w*|rompu\w*|glisse\w*|perce\w*|reste a l'interieur"
    r"|broke\w*|burst|torn|tore|ripped|split|slipped\w*|came off|fell off|stuck inside)"
)

# Events that can call for PEP, with or without a date.
CONDOM_INCIDENT = _any(
    rf"{_CONDOM}\W+(?:\w+\W+){{0,5}}?{_FAILED}",
    rf"{_FAILED}\W+(?:\w+\W+){{0,3}}?{_CONDOM}",
    r"stealth\w*",
    rf"{_CONDOM}\W+(?:\w+\W+){{0,4}}?(?:stiekem|zonder (?:te vragen|toestemming)|secretly|without (?:asking|consent)|en cachette)",
    r"\b(?:naald|naalden|needle|needles|aiguille|aiguilles)\b",
    r"prikaccident|needlestick",
    r"verkracht\w*|viol(?:ee|e)\b|raped|sexual(?:ly)? assault\w*",
    rf"(?:weet|weten|wist|idee)\W+(?:\w+\W+){{0,4}}?of\W+(?:\w+\W+){{0,4}}?{_CONDOM}",
    rf"(?:don'?t|do not|can'?t) (?:know|remember) (?:if|whether)\W+(?:\w+\W+){{0,4}}?{_CONDOM}",
    rf"(?:sais|souviens) (?:pas|plus) si\W+(?:\w+\W+){{0,4}}?{_CONDOM}",
)
# Unprotected sex counts only with a recent moment: too many general questions mention it.
UNPROTECTED = _any(
    rf"zonder\W+(?:\w+\W+){{0,2}}?{_CONDOM}",
    r"onbeschermd\w*|onveilig\w*|bareback",
    rf"sans\W+(?:\w+\W+){{0,2}}?(?:{_CONDOM}|protection)",
    r"non protege\w*",
    rf"without\W+(?:\w+\W+){{0,2}}?(?:{_CONDOM}|protection)",
    r"unprotected|\bnzc\b|\bpzc\b",
)
_DAYS = r"(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
RECENT = _any(
    r"\b(?:gisteren|gisteravond|gisternacht|eergisteren|vannacht|vandaag|vanmorgen|vanochtend|vanavond|deze nacht|afgelopen nacht|vorige nacht|zonet|daarnet|net gebeurd)\b",
    r"\b(?:een|twee|drie|1|2|3) dag(?:en)? geleden\b|\b(?:paar|enkele|\d+) uur geleden\b|\b(?:dit|afgelopen|vorig) weekend\b",
    r"\b(?:hier|avant-hier|aujourd'hui|cette nuit|ce matin|ce soir|la nuit derniere)\b",
    r"\bil y a (?:un|deux|trois|1|2|3) jours?\b|\bil y a (?:quelques|\d+) heures\b|\bce week-end\b",
    r"\b(?:yesterday|today|tonight|last night|this morning|this evening|just now|a few hours ago)\b",
    r"\b(?:a|one|two|three|1|2|3) days? ago\b|\b\d+ hours ago\b|\b(?:this|last) weekend\b",
    r"\b(?:24|36|48|72) (?:uur|heures|hours)\b",
)
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("maandag", "lundi", "monday"),
            ("dinsdag", "mardi", "tuesday"),
            ("woensdag", "mercredi", "wednesday"),
            ("donderdag", "jeudi", "thursday"),
            ("vrijdag", "vendredi", "friday"),
            ("zaterdag", "samedi", "saturday"),
            ("zondag", "dimanche", "sunday"),
        ]
    )
    for name in names
}
WEEKDAY = re.compile(rf"\b(?P<day>{_DAYS})\b")
# A weekday names the last such day before the mail arrived. One day more than
# the PEP window allows for a risk late on that day and a mail early on the fourth.
WEEKDAY_WINDOW_DAYS = PEP_WINDOW_DAYS + 1

OLD = _any(
    r"\b(?:weken|maanden|jaar|jaren) geleden\b|\bvorige (?:maand|week)\b|\bvorig jaar\b",
    r"\bil y a (?:\w+ )?(?:semaines|mois|ans)\b|\ble mois dernier\b|\bl'an dernier\b|\bla semaine derniere\b",
    r"\b(?:weeks|months|years) ago\b|\blast (?:month|year|week)\b",
)
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januari", "jan", "janvier", "january"),
            ("februari", "feb", "fevrier", "february"),
            ("maart", "mrt", "mars", "march"),
            ("april", "apr", "avril"),
            ("mei", "mai", "may"),
            ("juni", "jun", "juin", "june"),
            ("juli", "jul", "juillet", "july"),
            ("augustus", "aug", "aout", "august"),
            ("september", "sep", "sept", "septembre"),
            ("oktober", "okt", "oct", "octobre", "october"),
            ("november", "nov", "novembre"),
            ("december", "dec", "decembre"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
EXPLICIT_DATE = re.compile(
    rf"\b(?P<day>[0-3]?\d)(?:e|de|ste|er|st|nd|rd|th)? (?P<month>{_MONTH_NAMES})\b"
    rf"|\b(?P<month_first>{_MONTH_NAMES}) (?P<day_after>[0-3]?\d)(?:st|nd|rd|th)?\b"
)

# Day/month only after a word that introduces a date, so "24/7" or "50/50" do not count.
# Belgian, Dutch and French mail writes the day first.
NUMERIC_DATE = re.compile(
    r"\b(?:op|sinds|vanaf|tot|le|depuis|du|on|since)\s+(?P<day>[0-3]?\d)[/.-](?P<month>[01]?\d)(?:[/.-](?:\d{2}|\d{4}))?\b"
)

HYPOTHETICAL = _any(
    r"\b(?:wat als|stel dat|indien|wat moet je doen als|wat doe je als|wat moet ik doen als|wat doe ik als|als een|als het|als er|mocht)\b",
    r"\b(?:what if|if a|if the|if it|in case|what should i do if|what do i do if|what should you do if)\b",
    r"\b(?:et si|si le|si la|si un|si une|en cas de|que faire si)\b",
)

# A number followed by one of these is a quantity, not an age ("only 17 percent").
_NOT_AN_AGE = r"(?! ?(?:%|percent|procent|pour ?cent|euro|eur|uur|heures|hours|minuten|minutes|km|keer|times|fois|jaar geleden|years ago))"

# A stated or explicit age under 18.
MINOR_SIGNS = _any(
    r"\bminderjarig\w*|\bmineure?s?\b|\bunder-?age\b|\ba minor\b",
    r"\b(?:jonger dan|onder de|niet ouder dan) (?:14|15|16|17|18|achttien)\b",
    r"\b(?:moins de|pas plus de) (?:15|16|17|18) ans\b|\bunder (?:16|17|18)\b|\byounger than (?:16|17|18)\b",
    r"\b(?:14|15|16|17)[- ]?(?:jarige?|jaar oud|year[- ]old|ans)\b",
    rf"\b(?:was|is|ben|zei|zegt|pas|nog maar|maar|said|says|only|avait) (?:14|15|16|17)\b{_NOT_AN_AGE}",
    r"\b(?:ze|zij|she|elle) (?:\w+ ){0,2}?(?:14|15|16|17) (?:was|is|ans)\b",
    r"\bschoolmeisje\w*|\bschoolgirl\b|\blyceenne\b|\bscholiere\b",
)
# Looking young counts unless an adult age is stated nearby ("she looked young but said 23").
LOOKS_YOUNG = _any(
    r"\b(?:te|erg|heel|zeer|echt|veel te) jong\b|\btrop jeune\b|\btres jeune\b|\btoo young\b|\bvery young\b",
    r"\b(?:jong|young|jeune) (?:uit|leek|lijkend|uitzag|uitzien|looked|looking|looks|seemed)\b",
    r"\b(?:looked|seemed|looks) (?:very |really |so )?young\b|\bl'air (?:tres |si )?jeune\b",
)
ADVERT = re.compile(r"\b(?:advertentie\w*|zoekertje\w*|profiel\w*|annonce\w*|profil\w*|advert\w*|ad|profile\w*|site|website)\b")
ADULT_AGE = re.compile(
    r"\b(?:zei|zegt|beweerde|is|was|said|says|claimed|dit|disait|a)\b(?: \w+){0,3}? (?:1[89]|[2-9]\d)\b(?! ?(?:uur|euro|eur|minuten|km|heures|hours|minutes|jaar geleden|years ago))"
)

# Acute danger in itself, in any sentence of the mail.
DANGER_SIGNS = _any(
    r"\b(?:acuut|direct|levens)gevaar\b|\bin (?:acuut |direct )?gevaar\b|\ben danger\b|\bin danger\b",
    r"\bzelfmoord\w*|\bsuicid\w*|\beinde? aan (?:mijn|m'n|het) leven\b|\bniet meer (?:leven|verder)\b|\bmezelf (?:iets )?aan(?:doen)?\b",
    r"\bme tuer\b|\ben finir\b|\bkill myself\b|\bend my life\b|\bhurt myself\b",
    r"\b(?:mes|pistool|wapen|couteau|arme|knife|gun|weapon)\b.*\b(?:bedreigd|gedreigd|menace\w*|threaten\w*)\b",
    r"\bhelp(?:,)? (?:nu|dringend|snel)\b|\bhelp me now\b|\burgent(?:e)? aide\b",
    r"\boverdosis\b|\boverdose\b|\bbewusteloos\b|\bunconscious\b|\binconsciente?\b",
)
# Someone locked up or held: danger, unless the client only suspects it ("volgens mij").
CONFINEMENT = _any(
    r"\b(?:opgesloten|vastgehouden|gegijzeld|sequestree?|enfermee?|locked (?:up|in)|held against)\b",
)
SUSPICION = _any(
    r"\b(?:volgens mij|ik denk|ik vermoed|vermoed|misschien|wellicht|lijkt|ik heb het gevoel)\b",
    r"\b(?:je pense|je crois|peut-etre|il me semble|soupconne)\b",
    r"\b(?:i think|i suspect|maybe|perhaps|it seems|i have the feeling)\b",
)
# Violence counts as acute danger only while it happens.
VIOLENCE = _any(
    r"\b(?:geslagen|slaat|sloeg|geduwd|duwt|duwde|gesleurd|sleurt|meegesleurd|mishandeld|bedreigd|verkracht|gewurgd|geschopt)\b",
    r"\b(?:frappee?|battue?|poussee?|trainee?|menacee?|violee?|etranglee?)\b",
    r"\b(?:beaten|hit|hitting|pushed|dragged|threatened|attacked|raped|choked|kicked)\b",
)
IMMEDIATE = _any(
    r"\b(?:nu|op dit moment|op dit ogenblik|zonet|daarnet|net gezien|zie net|nog steeds|dringend)\b",
    r"\b(?:maintenant|en ce moment|actuellement|a l'instant|urgent)\b",
    r"\b(?:now|right now|at the moment|just saw|still|urgent)\b",
    r"\b112\b",
)


@dataclass(frozen=True)
class Urgency:
    reasons: tuple[str, ...]

    @property
    def urgent(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


def _matches_a_line(lines: str, *patterns: re.Pattern[str]) -> bool:
    """Tell whether any pattern matches `lines`, the sentences joined by newlines.

    One search of the whole text replaces a search per sentence, and most mail
    matches none of the trigger patterns. No sentence contains a newline. The
    patterns passed here use no anchors or lookbehinds, and their lookaheads
    treat a newline like the end of the text, so a pattern that matches a
    sentence also matches `lines` (tests/test_kb_shortcuts.py checks the
    patterns). A match may also span two sentences, so True only means that the
    sentences must be searched one by one.
    """
    return any(pattern.search(lines) for pattern in patterns)


def _first_matching_line(lines: str, *patterns: re.Pattern[str]) -> int | None:
    """Return the position of the first sentence that any pattern may match, or None when none can.

    By the reasoning of _matches_a_line, a sentence that a pattern matches contains
    a match in `lines` too, so no sentence before the leftmost match can match.
    """
    starts = [match.start() for pattern in patterns if (match := pattern.search(lines))]
    if not starts:
        return None
    return lines.count("\n", 0, min(starts))


def _explicit_dates(sentence: str, reference: dt.date) -> list[dt.date]:
    """Return the written dates ("3 februari", "March 3", "op 3/2"), placed in the year up to `reference`."""
    day_months = [
        (int(match.group("day") or match.group("day_after")), MONTHS[match.group("month") or match.group("month_first")])
        for match in EXPLICIT_DATE.finditer(sentence)
    ]
    day_months += [(int(match.group("day")), int(match.group("month"))) for match in NUMERIC_DATE.finditer(sentence)]

    found = []
    for day, month in day_months:
        try:
            date = dt.date(reference.year, month, day)
        except ValueError:
            continue
        if date > reference + dt.timedelta(days=1):
            date = date.replace(year=reference.year - 1)
        found.append(date)
    return found


def _recent_weekday(text: str, reference: dt.date) -> bool:
    """Return whether `text` names a weekday that lies within the PEP window before `reference`."""
    for match in WEEKDAY.finditer(text):
        days_ago = (reference.weekday() - WEEKDAYS[match.group("day")]) % 7
        if days_ago <= WEEKDAY_WINDOW_DAYS:
            return True
    return False


def _pep_window(sentences: list[str], lines: str, reference: dt.date) -> bool:
    # Only condom incidents and unprotected sex can decide, and most mail names neither.
    first = _first_matching_line(lines, CONDOM_INCIDENT, UNPROTECTED)
    if first is None:
        return False

    @functools.cache
    def dates(position: int) -> tuple[dt.date, ...]:
        # Reading dates is costly, so it happens only for sentences that need them.
        return tuple(_explicit_dates(sentences[position], reference))

    def any_dates() -> bool:
        if not _matches_a_line(lines, EXPLICIT_DATE, NUMERIC_DATE):
            return False
        return any(dates(position) for position in range(len(sentences)))

    for position, sentence in enumerate(sentences[first:], start=first):
        condom_incident = CONDOM_INCIDENT.search(sentence)
        unprotected = UNPROTECTED.search(sentence)
        # Only these two kinds of sentence can decide. The time searches below
        # are costly, so they run for these sentences alone.
        if not (condom_incident or unprotected):
            continue
        nearby = " ".join(sentences[max(0, position - 1): position + 2])
        recent_here = bool(RECENT.search(nearby) or _recent_weekday(nearby, reference)) and not OLD.search(sentence)
        if dates(position):
            # A written date decides over words such as a weekday in the same sentence.
            recent_here = any(reference - date <= dt.timedelta(days=PEP_WINDOW_DAYS) for date in dates(position))
        hypothetical = bool(HYPOTHETICAL.search(sentence))

        if condom_incident:
            if recent_here:
                return True
            # Told without any date: assume it just happened, unless it is a "what if".
            if not (_mentions_time(sentences, lines) or any_dates() or hypothetical):
                return True
        if unprotected and recent_here and not hypothetical:
            return True
    return False


def _mentions_time(sentences: list[str], lines: str) -> bool:
    """Tell whether any sentence names a recent or an old time."""
    if not _matches_a_line(lines, RECENT, WEEKDAY, OLD):
        return False
    return any(RECENT.search(sentence) or WEEKDAY.search(sentence) for sentence in sentences) or any(
        OLD.search(sentence) for sentence in sentences
    )


def _danger(sentences: list[str], lines: str) -> bool:
    first = _first_matching_line(lines, DANGER_SIGNS, CONFINEMENT, VIOLENCE)
    if first is None:
        return False
    for position, sentence in enumerate(sentences[first:], start=first):
        if HYPOTHETICAL.search(sentence):
            continue
        if DANGER_SIGNS.search(sentence):
            return True
        if CONFINEMENT.search(sentence) and not SUSPICION.search(sentence):
            return True
        if VIOLENCE.search(sentence) and IMMEDIATE.search(" ".join(sentences[max(0, position - 1): position + 2])):
            return True
    return False


def _minor(sentences: list[str], lines: str) -> bool:
    first = _first_matching_line(lines, MINOR_SIGNS, LOOKS_YOUNG)
    if first is None:
        return False
    for position, sentence in enumerate(sentences[first:], start=first):
        if HYPOTHETICAL.search(sentence):
            continue
        if MINOR_SIGNS.search(sentence):
            return True
        if not LOOKS_YOUNG.search(sentence):
            continue
        nearby = " ".join(sentences[max(0, position - 1): position + 2])
        # An age in an advert proves nothing: adverts state 18 or more whatever the truth.
        if not (ADULT_AGE.search(nearby) and not ADVERT.search(nearby)):
            return True
    return False


def assess_urgency(text: str, received: dt.date | None = None) -> Urgency:
    """Return the urgency reasons found in a question's new text (and subject), most pressing first.

    `received` is the day the mail arrived (default: today); written dates are compared with it.
    """
    sentences = split_sentences(fold(text))
    lines = "\n".join(sentences)
    reference = received or dt.date.today()
    found = set()
    if _danger(sentences, lines):
        found.add(DANGER)
    if _pep_window(sentences, lines, reference):
        found.add(PEP_WINDOW)
    if _minor(sentences, lines):
        found.add(MINOR)
    return Urgency(tuple(reason for reason in REASON_PRIORITY if reason in found))
