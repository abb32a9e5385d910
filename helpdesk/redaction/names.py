"""Person names: given names, surnames with particles, initials and working names.

Context rules (greetings, signatures, "mijn naam is", form labels, titles,
mail headers, "die zich X noemt") announce that a name follows, so any word
that is not a common word is taken. Elsewhere a capitalised word is a name
when it is a listed given name, or when it is inside a sentence and is
no common word, place or organisation. The words around it that look like a
surname are added. Names that are also ordinary words (Roos, Angel) need
capitalisation inside a sentence or a context rule. In mails typed without
capitals, listed given names count in lower case too.
"""

from __future__ import annotations

import re

from helpdesk.redaction.entities import Entity
from helpdesk.redaction.lexicon import Lexicon, lexicon
from helpdesk.redaction.name_contexts import (
    AGE_AFTER,
    APPOSITION,
    APPOSITION_WORDS,
    CLOSING_INLINE,
    CLOSING_LINE,
    EMAIL_DISPLAY_NAME,
    FOOTER_LINE,
    GREETING,
    LABEL,
    LINE_TITLE,
    NAMING_VERB,
    NAMING_VERB_WORDS,
    QUOTED_NAME,
    QUOTE_CONTEXT,
    I_AM,
    I_AM_WORDS,
    NAME_IS,
    NAME_IS_WORDS,
    TITLE,
    TITLE_WORDS,
    WORKING_TITLE,
    WROTE,
    WROTE_WORDS,
)
from helpdesk.redaction.name_parser import LEADING_PARTICLES, PARTICLES, TOKEN, NameParser

# Capitals inside a word ("STIs", but not "McDonald") or an adjective ending ("Noordse", "Gentsche").
_UNNAME_SHAPE = re.compile(r"^(?!Mc|Mac)[^-'’]*[A-Z][^-'’]*[A-Z]|[a-z](?:se|sche)$")
# Words that a single capital letter follows as a label rather than an initial.
LETTER_DESIGNATIONS = {
    "hepatitis", "vitamine", "vitamin", "type", "plan", "groep", "group", "klasse", "categorie", "blok",
    "fase", "zone", "kamer", "optie", "bijlage", "punt", "rij", "gebouw", "verdieping", "niveau",
}
WORKING_TITLE_HINT = re.compile("Lady|Miss|Mistress|Meesteres|Godd|Godin|Prin|Queen|Domina|Madam")
# Words after which a capitalised word is a place rather than a person: "in Brecht", "naar Melle".
PLACE_PREPOSITIONS = {
    "in", "uit", "te", "naar", "richting", "vanuit", "nabij", "rond", "omgeving", "regio", "bij", "from",
    "to", "near", "around", "à", "en", "vers", "près", "centrum", "stad", "gemeente", "provincie", "via",
}
COMPANY_FORMS = {"bv", "bvba", "nv", "vzw", "cvba", "comm", "vof", "srl", "sprl", "sa", "asbl", "gmbh", "ltd", "inc", "llc", "bv's"}
_TWO_DIGITS = re.compile(r"\d\d")
# Words after which a capitalised word is a street, district, organisation or product: "de Kempen", "het ITG".
ARTICLES = {"de", "het", "den", "the", "la", "le", "les", "een", "a", "an", "un", "une", "des", "du"}


class NameFinder(NameParser):
    """Person-name detector for one text; create one per text."""

    def __init__(self, text: str, words: Lexicon):
        super().__init__(text, words)
        self.found: list[Entity] = []
        self._title_cased_lines: dict[int, bool] = {}

    def add(self, start: int, end: int) -> None:
        self.found.append(Entity(start, end, "PERSON"))

    def add_parsed(
        self, index: int, allow_lower: bool, start: int | None = None, strong: bool = False
    ) -> tuple[int, int] | None:
        parsed = self.parse(index, allow_lower, strong=strong)
        if parsed:
            self.add(self.tokens[index].start if start is None else start, parsed[1])
        return parsed

    # Rules.

    def from_listed_given_names(self) -> None:
        """Find capitalised listed given names, with the surname words around them."""
        for index, token in enumerate(self.tokens):
            if not token.capitalised or not self.is_given(token):
                continue
            if token.fold in self.words.context_only_names:
                continue
            if token.fold in self.words.ordinary_word_names and (
                self.is_sentence_start(index) or not self._followed_by_surname(index)
                and self._looks_like_ordinary_word(index)
            ):
                continue
            if token.fold in self.words.organisations:
                continue
            if token.fold in self.words.places and self.previous_word(index) in PLACE_PREPOSITIONS:
                continue
            parsed = self.parse(index, allow_lower=False)
            if parsed:
                self.add(self.tokens[self._surname_before(index)].start, parsed[1])

    def _surname_before(self, index: int) -> int:
        """Return the first token of a surname written before the given name: "Van Damme Luc"."""
        first = index
        while first > 0 and index - first < 3 and self._joined(first - 1, first):
            previous = self.tokens[first - 1]
            if not self.is_capitalised(previous) or (previous.fold in self.words.places and not self.is_surname(previous)):
                break
            if previous.fold in LEADING_PARTICLES:
                first -= 1
                continue
            if self.is_given(previous) or not (self.is_surname(previous) or not self.is_common(previous)):
                break
            first -= 1
        while first < index and self.tokens[first].fold in LEADING_PARTICLES and first + 1 == index:
            first += 1  # a particle alone before the given name ("De Luc") is not a surname
        return first

    def is_sloppy(self) -> bool:
        """Tell whether most sentences start in lower case, as in mails typed without capitals."""
        starts = [index for index in range(len(self.tokens)) if self.is_sentence_start(index)]
        lower = sum(1 for index in starts if self.tokens[index].text.islower())
        return len(starts) >= 2 and lower * 2 >= len(starts)

    def from_lower_case_given_names(self) -> None:
        """Find listed given names in lower case in a mail typed without capitals ("bij tatjana")."""
        words = self.words
        candidates = [
            index
            for index, token in enumerate(self.tokens)
            # Names that are ordinary words ("roos", "mark") are common words and stay out.
            if token.fold not in words.common_words
            and token.text.islower()
            and len(token.text) > 2
            and token.fold not in words.organisations
            and self.is_given(token)
        ]
        if not candidates or not self.is_sloppy():
            return
        for index in candidates:
            token = self.tokens[index]
            if token.fold in words.places and self.previous_word(index) in PLACE_PREPOSITIONS:
                continue
            self.add_parsed(index, allow_lower=True)

    def from_listed_surnames(self) -> None:
        """Find listed surnames that start a sentence ("Peeters zei …"), where no other rule looks."""
        words = self.words
        for index, token in enumerate(self.tokens):
            if not token.capitalised or not self.is_sentence_start(index) or not self.is_surname(token):
                continue
            if self.is_given(token) or self.is_common(token) or token.fold in words.places:
                continue
            self.add_parsed(index, allow_lower=False)

    def from_unknown_capitalised_words(self) -> None:
        """Find capitalised words inside a sentence that are no known word, place or organisation.

        Dutch, French and English capitalise little else than names inside a
        sentence, so such a word is taken for a name that the lists miss.
        NOTE: an unlisted name that starts a sentence ("Xenia belde") is found
        only when it also occurs elsewhere as a name.
        """
        words = self.words
        for index, token in enumerate(self.tokens):
            if len(token.text) < 3 or not token.capitalised or self.is_sentence_start(index):
                continue
            if _UNNAME_SHAPE.search(token.text):
                continue  # "STIs", "Noordse": an abbreviation or an adjective made from a place
            if self.is_common(token) or token.fold in words.places or self.is_given(token):
                continue
            if self.is_derived_common(token):
                continue  # "Zelfdiagnosetests": a plural or compound of common words
            previous = self.previous_word(index)
            if previous in PLACE_PREPOSITIONS or previous in ARTICLES:
                continue
            if previous is not None and self._part_of_proper_noun(index - 1):
                continue  # "Studiebureau Nethe", "Glazen Straatje": a company or street name
            if index + 1 < len(self.tokens) and self.tokens[index + 1].fold in COMPANY_FORMS:
                continue
            following = self.text[token.end:token.end + 3]
            if re.match(r"[ \t]?\d", following) or following.startswith(("-", ".", "@")):
                continue  # a street or code before a number, a compound or a domain
            self.add_parsed(index, allow_lower=False)

    def _followed_by_surname(self, index: int) -> bool:
        following = index + 1
        return (
            following < len(self.tokens)
            and self._joined(index, following)
            and self.is_capitalised(self.tokens[following])
            and (self.is_surname(self.tokens[following]) or not self.is_common(self.tokens[following]))
        )

    def _looks_like_ordinary_word(self, index: int) -> bool:
        # Inside a sentence a capitalised "Roos" or "Angel" is a name; in a title-cased
        # line ("Rose Garden Massage") it is not.
        line_start = self.text.rfind("\n", 0, self.tokens[index].start) + 1
        if line_start not in self._title_cased_lines:
            self._title_cased_lines[line_start] = self._is_title_cased_line(line_start)
        return self._title_cased_lines[line_start]

    def _is_title_cased_line(self, line_start: int) -> bool:
        # The caller caches this per line, because a text of one long line would
        # otherwise be tokenised again for each ordinary-word name in it.
        line_end = self.text.find("\n", line_start)
        line = self.text[line_start:line_end if line_end >= 0 else len(self.text)]
        words = TOKEN.findall(line)
        capitalised = sum(1 for word in words if word[0].isupper())
        return len(words) >= 4 and capitalised / len(words) > 0.6

    def _part_of_proper_noun(self, index: int) -> bool:
        token = self.tokens[index]
        return (
            self.is_capitalised(token)
            and not self.is_initial(index)
            and not self.is_given(token)
            and token.fold not in LEADING_PARTICLES
            and not (self.is_sentence_start(index) and self.is_common(token))
        )

    def from_initials(self) -> None:
        """Find initials followed by a surname: "B. Janssens", "J.P. De Vos"."""
        for index, initial in enumerate(self.initial_flags):
            if not initial:
                continue
            if index > 0 and self.is_initial(index - 1) and self._joined(index - 1, index):
                continue  # not the first initial of a run
            if self.previous_word(index) in LETTER_DESIGNATIONS:
                continue  # "hepatitis C. Daartegen …": a letter that ends a sentence
            parsed = self.parse(index, allow_lower=False)
            if parsed and not self._all_initials(index, parsed[0]):
                self.add(self.tokens[index].start, parsed[1])

    def after_line_pattern(self, pattern: re.Pattern[str], allow_lower: bool) -> None:
        """Parse a name right after each match of a pattern that starts with "(?:^|\\n)".

        Such a pattern matches only at the text start or at a line break, so it is
        tried only there, which is much faster than pattern.finditer. Skipping
        the positions before the end of the previous match keeps the matches of
        finditer. The pattern runs on the lower-cased text.
        """
        previous_end = 0
        position = 0
        while position >= 0:
            if position >= previous_end:
                match = pattern.match(self.lowered, position)
                if match:
                    self._parse_after(match.end(), allow_lower)
                    previous_end = match.end()
            position = self.lowered.find("\n", position + 1)

    def after_words(
        self, pattern: re.Pattern[str], first_words: frozenset[str], allow_lower: bool, strong: bool = True
    ) -> None:
        """Like after_line_pattern, trying the pattern only at tokens that can start it."""
        if first_words.isdisjoint(self.folds):
            return
        for token in self.tokens:
            if token.fold in first_words:
                match = pattern.match(self.lowered, token.start)
                if match:
                    self._parse_after(match.end(), allow_lower, strong)

    def _parse_after(self, position: int, allow_lower: bool, strong: bool = True) -> None:
        index = self.token_at(position)
        if index is not None and self.tokens[index].start - position <= 2:
            self.add_parsed(index, allow_lower, strong=strong)

    def working_titles(self) -> None:
        """Find working names with their title ("Lady Vera"); the title is part of the name."""
        if not WORKING_TITLE_HINT.search(self.text):
            return
        for match in WORKING_TITLE.finditer(self.text):
            index = self.token_at(match.end())
            if index is not None and self.tokens[index].start == match.end():
                self.add_parsed(index, allow_lower=False, start=match.start(), strong=True)

    def quoted_names(self) -> None:
        """Find a quoted capitalised word that is a given name or is named by a nearby verb."""
        for match in QUOTED_NAME.finditer(self.text):
            index = self.token_at(match.start("name"))
            if index is None:
                continue
            token = self.tokens[index]
            window = self.lowered[max(0, match.start() - 40):match.end() + 25]
            if not self.is_capitalised(token):
                continue  # "BBFS": an abbreviation in quotes
            if self.is_given(token) or (not self.is_common(token) and QUOTE_CONTEXT.search(window)):
                parsed = self.parse(index, allow_lower=False, first_checked=True, strong=True)
                if parsed and parsed[1] <= match.end("name"):
                    self.add(token.start, parsed[1])

    def before_age(self) -> None:
        """Find advert-style working names followed by an age: "Lola (19)"."""
        if not _TWO_DIGITS.search(self.text):
            return  # every match has a two-digit age
        for match in AGE_AFTER.finditer(self.text):
            index = self.token_at(match.start())
            if index is not None and self.tokens[index].start == match.start():
                token = self.tokens[index]
                if self.is_given(token) or not self.is_common(token):
                    self.add(token.start, token.end)

    def email_display_names(self) -> None:
        """Find the display name before an address in angle brackets: "Tom Wouters <tom@…>"."""
        if "@" not in self.text:
            return
        for match in EMAIL_DISPLAY_NAME.finditer(self.lowered):
            start, end = match.span("name")
            index = self.token_at(start)
            while index is not None and index < len(self.tokens) and self.tokens[index].end <= end:
                parsed = self.parse(index, allow_lower=True, strong=True)
                if parsed and parsed[1] <= end:
                    self.add(self.tokens[index].start, parsed[1])
                    index = parsed[0] + 1
                else:
                    index += 1

    def signatures(self) -> None:
        """Find names on the line after a closing formula, after it on the same line, or on the last line."""
        lines = list(_lines(self.text))
        for number, (start, end) in enumerate(lines):
            line = self.lowered[start:end]
            inline = CLOSING_INLINE.search(line)
            if inline:
                self._name_line(start + inline.start("rest"), end, after_closing=True)
                continue
            if not CLOSING_LINE.match(line):
                continue
            for next_start, next_end in lines[number + 1:number + 3]:
                next_line = self.lowered[next_start:next_end]
                if not next_line.strip() or FOOTER_LINE.match(next_line):
                    continue
                self._name_line(next_start, next_end, after_closing=True)
                break

        content = [(start, end) for start, end in lines if self.lowered[start:end].strip()]
        while content and FOOTER_LINE.match(self.lowered[content[-1][0]:content[-1][1]]):
            content.pop()
        if content:
            self._name_line(*content[-1])

    def _name_line(self, start: int, end: int, after_closing: bool = False) -> None:
        """Report the line as a name when a name fills it, apart from a title and punctuation."""
        title = LINE_TITLE.match(self.lowered[start:end])
        if title:
            start += title.end()
        index = self.token_at(start)
        if index is None or self.tokens[index].start >= end:
            return
        if self.text[start:self.tokens[index].start].strip(" \t>*-–\"'"):
            return
        parsed = self.parse(index, allow_lower=True, strong=True)
        if not parsed and self.is_given(self.tokens[index]):
            parsed = (index, self.tokens[index].end)  # a given name alone on its line ("ward"), even if also a word
        if after_closing and not self._fills_line(parsed, end, after_closing):
            parsed = self._capitalised_line(index, end)
        if after_closing and not parsed:
            self._name_parts_of_line(index, end)
            return
        if not parsed or not self._fills_line(parsed, end, after_closing):
            return
        first = self.tokens[index]
        if first.text.islower() and not self.is_given(first) and parsed[0] == index and not after_closing:
            return  # a single unknown lower-case word at the end is more often text than a name
        self.add(first.start, parsed[1])

    def _name_parts_of_line(self, index: int, end: int) -> None:
        """Report the name parts of a signature line that brackets split: "M.A. (Marloes) de Jong-Bakker"."""
        # Stop after seven tokens: a longer line is no signature, and scanning to the end
        # of the text on each of many short lines would take quadratic time.
        line_tokens = []
        position = index
        while position < len(self.tokens) and self.tokens[position].end <= end and len(line_tokens) < 7:
            line_tokens.append(position)
            position += 1
        if not 1 < len(line_tokens) <= 6:
            return
        if not any(self.is_given(self.tokens[position]) or self.is_surname(self.tokens[position]) for position in line_tokens):
            return
        position = index
        while position <= line_tokens[-1]:
            start = position
            while start < line_tokens[-1] and self.tokens[start].fold in PARTICLES and self._joined(start, start + 1):
                start += 1  # "de Jong-Bakker": a lower-case particle before the surname belongs to it
            parsed = self.parse(start, allow_lower=False, strong=True)
            if parsed and parsed[1] <= end:
                self.add(self.tokens[position].start, parsed[1])
                position = parsed[0] + 1
            else:
                position += 1

    def _fills_line(self, parsed: tuple[int, int] | None, end: int, after_closing: bool) -> bool:
        # Under a closing formula a remark may follow the name ("Bas (vrijwilliger)").
        if not parsed:
            return False
        rest = self.text[parsed[1]:end]
        return not rest.strip(" \t.,!;:") or (after_closing and bool(re.fullmatch(r"\s*[,(–-].*", rest)))

    def _capitalised_line(self, index: int, end: int) -> tuple[int, int] | None:
        """Read a signature line of capitalised words as a name ("Raf Wijnants").

        Under a closing formula a word that is also common in some language
        ("Raf", "Will") still belongs to the name, provided another word of
        the line is a name or no common word.
        """
        last = index
        while last + 1 < len(self.tokens) and self.tokens[last + 1].end <= end and self._joined(last, last + 1):
            last += 1
        line_tokens = range(index, last + 1)
        if last - index >= 4 or self.text[self.tokens[last].end:end].strip(" \t.,!;:"):
            return None
        if not all(
            self.is_initial(position)
            or self.tokens[position].fold in PARTICLES
            or (self.is_capitalised(self.tokens[position]) and self.tokens[position].fold not in self.words.organisations)
            for position in line_tokens
        ):
            return None
        if not any(
            self.is_given(self.tokens[position])
            or self.is_surname(self.tokens[position])
            or not self.is_common(self.tokens[position], strong=True)
            for position in line_tokens
            if not self.is_initial(position) and self.tokens[position].fold not in PARTICLES
        ):
            return None
        if self.tokens[index].fold in self.words.common_words and self.tokens[index].fold not in self.words.given_names:
            if last == index or self.tokens[index].fold in ARTICLES:
                return None
        end_offset = self.tokens[last].end + (1 if self.is_initial(last) else 0)
        return last, end_offset

    def other_mentions(self) -> None:
        """Find further mentions of a word already taken as a name: "Xenia … Xenia zegt"."""
        named: set[str] = set()
        covered: set[int] = set()
        for entity in self.found:
            first = self.token_at(entity.start)
            while first is not None and first < len(self.tokens) and self.tokens[first].end <= entity.end:
                token = self.tokens[first]
                covered.add(first)
                if len(token.text) > 2 and token.fold not in PARTICLES and not self.is_initial(first):
                    named.add(token.fold)
                first += 1
        if not named:
            return
        for index, token in enumerate(self.tokens):
            if index in covered or token.fold not in named or not token.capitalised:
                continue
            if token.fold in self.words.context_only_names and self.is_sentence_start(index):
                continue  # "Ben je …" after a signature "Ben"
            self.add(token.start, token.end)

    def run(self) -> list[Entity]:
        """Apply every rule; the spans may overlap."""
        self.from_listed_given_names()
        self.from_unknown_capitalised_words()
        self.from_listed_surnames()
        self.from_lower_case_given_names()
        self.from_initials()
        self.after_line_pattern(GREETING, allow_lower=True)
        self.after_line_pattern(LABEL, allow_lower=True)
        self.after_words(NAME_IS, NAME_IS_WORDS, allow_lower=True)
        self.after_words(I_AM, I_AM_WORDS, allow_lower=True, strong=False)
        self.after_words(TITLE, TITLE_WORDS, allow_lower=False)
        self.after_words(NAMING_VERB, NAMING_VERB_WORDS, allow_lower=True)
        self.after_words(APPOSITION, APPOSITION_WORDS, allow_lower=True)
        self.after_words(WROTE, WROTE_WORDS, allow_lower=False)
        self.working_titles()
        self.quoted_names()
        self.before_age()
        self.email_display_names()
        self.signatures()
        self.other_mentions()
        return self.found


def _lines(text: str):
    start = 0
    for line in text.split("\n"):
        yield start, start + len(line)
        start += len(line) + 1


def find_names(text: str) -> list[Entity]:
    """Find person names in `text`; spans may overlap and are merged by the caller."""
    return NameFinder(text, lexicon()).run()
