"""The publication check's problems as the article editor shows them: field label, Dutch sentence, excerpt."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from admin.labels import ARTICLE_FIELD_LABELS, ENTITY_LABELS
from kb.publishing import Problem


@dataclass(frozen=True)
class ShownProblem:
    field: str
    message: str
    excerpt: str = ""


def field_label(field: str) -> str:
    if field.startswith("image:"):
        return _("Alt-tekst van afbeelding %(id)s", id=field.partition(":")[2])
    return str(ARTICLE_FIELD_LABELS.get(field, field))


def describe_problem(problem: Problem) -> ShownProblem:
    """Word one problem for staff, without the detector's type code or character offset."""
    if problem.entity_type:
        kind = str(ENTITY_LABELS.get(problem.entity_type, problem.entity_type))
        message = _("Bevat nog een identificerend gegeven (%(kind)s):", kind=kind)
        return ShownProblem(field_label(problem.field), message, problem.excerpt)
    if problem.excerpt.startswith("["):
        message = _("Bevat nog de plaatshouder %(placeholder)s: schrijf de zin algemeen.", placeholder=problem.excerpt)
        return ShownProblem(field_label(problem.field), message)
    # NOTE: a problem whose detection did not line up with its sentence keeps the check's own Dutch sentence.
    return ShownProblem(field_label(problem.field), problem.message, problem.excerpt)
