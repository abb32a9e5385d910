"""Patterns that announce a person name, in Dutch, French and English.

Each pattern ends where the name starts; `names.NameFinder` reads the name.
Patterns without upper-case letters run on the lower-cased text (see
`context.lowercase`), so they are compiled without re.IGNORECASE. Patterns
with a `*_WORDS` set are tried only where a token from that set starts, which
is much faster than scanning the whole text.
"""

from __future__ import annotations

import re

_CLOSING_WORDS = (
    r"(?:met\s+)?(?:(?:vriendelijke|hartelijke|beste|warme|lieve|veel|vele|kind|best|warm|many)\s+)?"
    r"(?:groet(?:en|jes|n|tjes|je)?|mvg|m\.v\.g\.?|vg|mvgr|grtz|greetz|gr|dank(?:\s?je|\s?u)?(?:\s+wel)?|"
    r"(?:alvast\s+|nogmaals\s+|heel\s+erg\s+)?bedankt(?:\s+alvast)?|alvast\s+dank|merci(?:\s+beaucoup|\s+bien)?|"
    r"thanks(?:\s+a\s+lot|\s+in\s+advance)?|thank\s+you|thx|tx|cheers|regards|wishes|cordialement|"
    r"bien\s+(?:à|a)\s+(?:vous|toi)|(?:sincères\s+)?salutations(?:\s+distinguées)?|bisous|bises|"
    r"hoogachtend|tot\s+(?:dinsdag|maandag|woensdag|donderdag|vrijdag|zaterdag|zondag|snel|later|straks|dan|ziens)|"
    r"ciao|doei|daag|adios|liefs|lieve\s+groet(?:en|jes)?|kusjes|knuffel|xoxo|love|hugs|bises|x+|xx+)"
)
CLOSING_LINE = re.compile(rf"^[> \t]*{_CLOSING_WORDS}[\s,.!]*$")
# "Groetjes, Bas" and "Groeten Tom" on one line, also after the last sentence: "… hpv? mvg tom".
CLOSING_INLINE = re.compile(rf"(?:^[> \t]*|[.!?][ \t]+)(?:{_CLOSING_WORDS})(?:[ \t]*[,.!:-][ \t]*|[ \t]+)(?P<rest>\S.*)$")
FOOTER_LINE = re.compile(
    r"^\s*(?:verstuurd|verzonden|sent|envoyé|envoye|get outlook|download|--+|__+|==+|\[|>?\s*$)",
)
GREETING = re.compile(
    r"(?:^|\n)[> \t]*(?:beste|dag|hallo|hallo daar|hoi|hey|hi|hello|dear|lieve|liefste|bonjour|bonsoir|salut|"
    r"cher|chère|goedemorgen|goedemiddag|goedenavond|goeiedag|goedendag|goeiemorgen|goeieavond|hé|yo)"
    r"[ \t]+(?:(?:meneer|mevrouw|heer|dhr\.?|mevr\.?|mr\.?|mrs\.?|ms\.?|dokter|dr\.?|madame|monsieur)[ \t]+)?",
)
# "Mijn naam is …" announces a name for certain.
NAME_IS = re.compile(
    r"\b(?:mijn\s+naam\s+is|ik\s+heet|ik\s+noem\s+mij|je\s+m'appelle|mon\s+nom\s+est|my\s+name\s+is|my\s+name's|"
    r"(?:zijn|haar|mijn|his|her|my|son|sa)\s+(?:echte\s+|volledige\s+|real\s+|full\s+|vrai\s+)?"
    r"(?:naam|name|nom|voornaam|achternaam)\s*(?:is|est|:|=)?|"
    r"op\s+naam\s+van|ten\s+name\s+van|t\.n\.v\.?|au\s+nom\s+de|in\s+the\s+name\s+of|namens|ondertekend|signed)"
    r"\s*[:,]?[ \t]*",
)
NAME_IS_WORDS = frozenset(
    "mijn ik je mon my zijn haar his her son sa op ten t au in namens ondertekend signed".split()
)
# "Ik ben …" is as often followed by a nationality or a trade ("ik ben Franstalig").
I_AM = re.compile(r"\b(?:ik\s+ben|k\s+ben|je\s+suis|moi\s+c'est|i\s+am|i'm|this\s+is|hier\s+is|dit\s+is|ici)[ \t]*,?[ \t]*")
I_AM_WORDS = frozenset("ik k je moi i i'm this hier dit ici".split())
LABEL = re.compile(
    r"(?:^|\n)[> \t]*(?:naam|voornaam|voornamen|familienaam|achternaam|roepnaam|volledige naam|name|"
    r"first\s+name|last\s+name|surname|full\s+name|nom|prénom|nom\s+de\s+famille|contactpersoon|contact|"
    r"afzender|from|van|de|aan|to|cc|patiënt|patient|klant|client|cliënt|sender|expéditeur|"
    r"ondertekening|handtekening)[ \t]*:[ \t]*",
)
# The name after a title must be capitalised; NameFinder checks that on the original text.
TITLE = re.compile(
    r"(?<![\w.])(?:dhr|mr|mevr|mw|dr|drs|prof|ir|ing|mrs|ms|mme|mlle)\.?[ \t]+"
    r"|\b(?:meneer|mijnheer|mevrouw|juffrouw|dokter|docteur|professor|inspecteur|hoofdinspecteur|"
    r"commissaris|agent|agente|advocaat|advocate|meester|maître|madame|monsieur|mademoiselle|"
    r"zuster|broeder|pater|sir|doctor|officer|detective|heer)[ \t]+",
)
TITLE_WORDS = frozenset(
    "dhr mr mevr mw dr drs prof ir ing mrs ms mme mlle meneer mijnheer mevrouw juffrouw dokter docteur professor "
    "inspecteur hoofdinspecteur commissaris agent agente advocaat advocate meester maître madame monsieur "
    "mademoiselle zuster broeder pater sir doctor officer detective heer".split()
)
# Titles at the start of a signature line, kept out of the name span.
LINE_TITLE = re.compile(
    r"[ \t>]*(?:(?:dhr|mr|mevr|mw|dr|drs|prof|ir|ing|ds|mrs|ms|mme|mlle)\.?|meneer|mevrouw|dokter)[ \t]+",
)
# Working-name titles belong to the name: "Lady Vera", "Mistress Yara".
WORKING_TITLE = re.compile(
    r"\b(?:Lady|Mistress|Miss|Meesteres|Goddess|Godin|Princess|Prinses|Queen|Domina|Madam)[ \t]+(?=[A-ZÀ-Ý])"
)
NAMING_VERB = re.compile(
    r"\b(?:noemt\s+zich|noemde\s+zich|heet|heette|genaamd|genoemd|alias|aka|a\.k\.a\.|called|named|"
    r"goes\s+by(?:\s+the\s+name)?|calls\s+(?:herself|himself)|known\s+as|bekend\s+als|noemt\s+zichzelf|"
    r"s'appelle|s'appelait|se\s+fait\s+appeler|se\s+faisait\s+appeler|appelée|appelé|nommée|nommé|werknaam|"
    r"artiestennaam|schuilnaam|(?:ken|kent|kende|kenden|know|knew|connais)\s+(?:haar|hem|her|him|la|le)\s+"
    r"(?:alleen\s+|enkel\s+|only\s+|just\s+|seulement\s+)?(?:als|as|sous le nom de|comme))"
    r"\s*[:\"'“‘«]?\s*",
)
NAMING_VERB_WORDS = frozenset(
    "noemt noemde heet heette genaamd genoemd alias aka a called named goes calls known bekend s'appelle s'appelait se "
    "appelée appelé nommée nommé werknaam artiestennaam schuilnaam ken kent kende kenden know knew connais".split()
)
_PERSON_NOUNS = (
    r"vriend|vriendin|man|vrouw|partner|echtgenoot|echtgenote|broer|zus|zuster|zoon|dochter|collega|baas|"
    r"buurman|buurvrouw|ex|lief|neef|nicht|schoonbroer|schoonzus|huisarts|pooier|souteneur|chauffeur|meisje|"
    r"dame|jongen|escort|sekswerker|sekswerkster|hen|klant|friend|husband|wife|girlfriend|boyfriend|brother|"
    r"sister|colleague|girl|boy|lady|woman|man|mari|femme|copine|copain|ami|amie|fille|frère|soeur|sœur|"
    r"gérant|patron|patronne|uitbater|uitbaatster|madam|dokter|arts|advocaat|consulent|medewerker|medewerkster"
)
_POSSESSIVES = "mijn|m'n|zijn|z'n|haar|my|his|her|mon|ma|son|sa"
APPOSITION = re.compile(
    rf"\b(?:(?:{_PERSON_NOUNS}),[ \t]+|(?:{_POSSESSIVES})[ \t]+(?:{_PERSON_NOUNS})[ \t]+)",
)
APPOSITION_WORDS = frozenset(_PERSON_NOUNS.split("|") + _POSSESSIVES.split("|"))
WROTE = re.compile(r"\b(?:schreef|wrote|a\s+écrit|écrit)[ \t]+")
WROTE_WORDS = frozenset({"schreef", "wrote", "a", "écrit"})
QUOTED_NAME = re.compile(r"[\"'“‘«„][ \t]?(?P<name>[A-ZÀ-Ý][\wÀ-ÿ'’-]{1,24})[ \t]?[\"'”’»]")
QUOTE_CONTEXT = re.compile(r"noem|heet|naam|name|called|als\b|as\b|alias|appel|nom\b|werknaam|bekend|known|zegt|zei")
# Advert style: a working name followed by an age, "Lola (19)", "Esmée 💋 21j", "Nina, 23 jaar".
# The capital comes before the lookbehind that checks the character before it, which
# lets the regex engine skip quickly to the next capital.
AGE_AFTER = re.compile(
    r"[A-ZÀ-Ý](?<![\w'’-][A-ZÀ-Ý])[^\W\d_]{1,30}(?=[ \t]*(?:[^\w\s]{1,3}[ \t]*)?(?:\([ \t]*\d{2}[ \t]*(?:j|jr|jaar|ans|y|yo|yrs)?\.?[ \t]*\)"
    r"|,?[ \t]*\d{2}[ \t]?(?:j|jr|jaar|ans|y|yo|yrs)\b))"
)
EMAIL_DISPLAY_NAME = re.compile(
    r"(?:^|\n|:|schreef|wrote|écrit|,)[ \t>]*[\"'“]?(?P<name>[^\n<>\"“”:@,]{1,60}?)[\"'”]?[ \t]*"
    r"(?:<|\[mailto:|\()[^<>\s@]+@[^<>\s]+(?:>|\]|\))"
)
