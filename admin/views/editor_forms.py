"""Forms of the FAQ editor; each carries a CSRF token through FlaskForm."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from kb.articles import SLUG_PATTERN
from kb.faq_images import MAX_ALT_LENGTH
from kb.models import LANGUAGES

LANGUAGE_CHOICES = [("nl", "Nederlands"), ("fr", "Français"), ("en", "English")]
SOURCE_SEPARATOR = "|"


def parse_keywords(text: str) -> list[str]:
    return [keyword.strip() for keyword in (text or "").split(",") if keyword.strip()]


def parse_sources(text: str) -> list[dict[str, str]]:
    """Read one source per line, as 'title | https://address' or a title alone."""
    sources = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        title, _, url = line.partition(SOURCE_SEPARATOR)
        sources.append({"title": title.strip(), "url": url.strip()})
    return sources


def format_sources(sources: list[dict]) -> str:
    return "\n".join(
        f"{source['title']} {SOURCE_SEPARATOR} {source['url']}" if source.get("url") else source["title"]
        for source in sources or []
    )


def _check_sources(form, field) -> None:
    for source in parse_sources(field.data):
        if not source["title"]:
            raise ValidationError(_l("Elke bron heeft een titel nodig: schrijf 'titel | https://adres'."))
        if source["url"] and not source["url"].startswith(("https://", "http://")):
            raise ValidationError(_l("Het adres %(url)s is geen webadres: begin het met https://.", url=source["url"]))


class ContentFields(FlaskForm):
    title = StringField(_l("Vraag (titel)"), validators=[DataRequired(), Length(max=300)])
    short_answer = TextAreaField(_l("Kort antwoord"), validators=[Length(max=2000)])
    body = TextAreaField(_l("Tekst (Markdown)"), validators=[Length(max=50_000)])
    keywords = StringField(_l("Trefwoorden (gescheiden door komma's)"), validators=[Length(max=1000)])
    theme = StringField(_l("Thema"), validators=[Length(max=64)])
    sources = TextAreaField(_l("Bronnen (één per regel: titel | https://adres)"), validators=[Length(max=5000), _check_sources])
    last_checked = DateField(_l("Laatst nagekeken op"), validators=[Optional()])

    def content(self) -> dict:
        return {
            "title": self.title.data,
            "short_answer": self.short_answer.data,
            "body": self.body.data,
            "keywords": parse_keywords(self.keywords.data),
            "theme": self.theme.data,
            "sources": parse_sources(self.sources.data),
            "last_checked": self.last_checked.data,
        }


_SLUG_VALIDATORS = [
    DataRequired(),
    Length(max=128),
    Regexp(SLUG_PATTERN, message=_l("Gebruik kleine letters, cijfers en enkele koppeltekens, bijvoorbeeld condoom-gescheurd.")),
]


class NewArticleForm(ContentFields):
    slug = StringField(_l("Adres (slug)"), validators=_SLUG_VALIDATORS)
    language = SelectField(_l("Taal"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])
    group_id = HiddenField()
    message_id = HiddenField()
    submit = SubmitField(_l("Concept aanmaken"))


class EditArticleForm(ContentFields):
    slug = StringField(_l("Adres (slug)"), validators=_SLUG_VALIDATORS)
    submit = SubmitField(_l("Bewaren"))


class StatusActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])


class RestoreForm(FlaskForm):
    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class ImageForm(FlaskForm):
    image = FileField(
        _l("Afbeelding (PNG, JPEG of WebP)"),
        validators=[FileRequired(), FileAllowed(["png", "jpg", "jpeg", "webp"], _l("Kies een PNG-, JPEG- of WebP-bestand."))],
    )
    alt = StringField(_l("Beschrijving voor wie de afbeelding niet ziet (alt-tekst)"), validators=[DataRequired(), Length(max=MAX_ALT_LENGTH)])
    submit = SubmitField(_l("Afbeelding toevoegen"))


class TranslateForm(FlaskForm):
    language = SelectField(_l("Vertaling in"), choices=[choice for choice in LANGUAGE_CHOICES if choice[0] != "nl"])
    submit = SubmitField(_l("Vertaling beginnen"))

    def validate_language(self, field) -> None:
        if field.data not in LANGUAGES:
            raise ValidationError(_l("Kies Frans of Engels."))
