"""Language detection of client questions, limited to Dutch, French and English."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from kb.models import DEFAULT_LANGUAGE
from kb.text import words

_CODES = {Language.DUTCH: "nl", Language.FRENCH: "fr", Language.ENGLISH: "en"}

# Below this many words lingua often guesses wrong ("ok", "PZC?"), so the
# helpdesk's main language is the safer choice.
MIN_WORDS = 4
# The winning language needs at least this confidence (lingua's relative value, 0 to 1).
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Building loads the language models (about 0.3 s), so it happens once per process.
    return LanguageDetectorBuilder.from_languages(*_CODES).with_preloaded_language_models().build()


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Return 'nl', 'fr' or 'en' for `text`; `default` when the text is too short or unclear."""
    if len(words(text)) < MIN_WORDS:
        return default
    confidences = _detector().compute_language_confidence_values(text)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return default
    return _CODES[confidences[0].language]
