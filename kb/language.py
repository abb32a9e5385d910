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


# From this many characters on, lingua's low accuracy mode (trigrams only)
# decides. Its author states that accuracy above 120 characters stays mostly
# unaffected (https://github.com/pemistahl/lingua-rs/issues/119), and it took
# half the time on the development questions.
LOW_ACCURACY_FROM_CHARACTERS = 120


@lru_cache(maxsize=2)
def _detector(low_accuracy: bool) -> LanguageDetector:
    # Building loads the language models (about 0.3 s), so it happens once per process.
    builder = LanguageDetectorBuilder.from_languages(*_CODES).with_preloaded_language_models()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def load_models() -> None:
    """Build both detectors now, so that no question waits for its models to load."""
    _detector(low_accuracy=False)
    _detector(low_accuracy=True)


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Return 'nl', 'fr' or 'en' for `text`; `default` when the text is too short or unclear."""
    if len(words(text)) < MIN_WORDS:
        return default
    detector = _detector(low_accuracy=len(text) >= LOW_ACCURACY_FROM_CHARACTERS)
    confidences = detector.compute_language_confidence_values(text)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return default
    return _CODES[confidences[0].language]
