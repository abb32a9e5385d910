"""The form base class of flask-admin model views: Flask-WTF's CSRF protection plus the edited object."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ModelForm(FlaskForm):
    """A FlaskForm that keeps the edited object in `_obj`, as flask-admin's own BaseForm does.

    flask-admin's Unique validator compares against `_obj`. Without it, every
    save of an existing row fails with "already exists".
    """

    def __init__(self, *args, obj=None, **kwargs) -> None:
        self._obj = obj
        super().__init__(*args, obj=obj, **kwargs)
