"""Canned replies (macros) for editors and administrators: list, create, edit, deactivate."""

from __future__ import annotations

from flask_admin.contrib.sqla import ModelView
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from admin.auth import staff
from admin.i18n import LANGUAGE_NAMES
from admin.views.model_forms import ModelForm
from admin.views.model_wording import StaffWordingMixin
from admin.views.access import RoleRequiredMixin
from helpdesk.tickets.macros import MANAGER_ROLES, Macro, MacroError, prepare_macro


class MacroAdminView(StaffWordingMixin, RoleRequiredMixin, ModelView):
    allowed_roles = MANAGER_ROLES
    form_base_class = ModelForm
    can_delete = False  # deactivate instead, so the history of inserted macros keeps its ids
    can_view_details = False
    list_template = "admin/model_list.html"
    create_template = "admin/model_create.html"
    edit_template = "admin/model_edit.html"
    column_list = ["title", "language", "active", "updated_at"]
    column_labels = {
        "title": _l("Titel"),
        "language": _l("Taal"),
        "body": _l("Tekst (gaat zo naar de cliënt: geen namen of andere persoonsgegevens)"),
        "active": _l("Actief"),
        "updated_at": _l("Gewijzigd"),
    }
    column_default_sort = "title"
    column_searchable_list = ["title", "body"]
    # No column_filters: flask-admin draws them with inline handlers, which the CSP blocks.
    form_columns = ["title", "language", "body", "active"]
    form_choices = {"language": list(LANGUAGE_NAMES.items())}
    form_widget_args = {"body": {"rows": 10}}
    column_formatters = {"language": lambda view, context, macro, name: LANGUAGE_NAMES.get(macro.language, macro.language)}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Macro, session, name=_l("Standaardantwoorden"), endpoint="macros", url="macros", **kwargs)

    def on_model_change(self, form, macro: Macro, is_created: bool) -> None:
        try:
            prepare_macro(self.session, staff(), macro, is_new=is_created)
        except MacroError as error:
            raise ValidationError(str(error)) from None
