"""Our own wording in place of flask-admin's stock texts ("Record was successfully created." and the like).

flask-admin translates its texts through its own catalogue, whose Dutch reads
as a literal translation. Its catalogue is merged after an application's own,
so our catalogue cannot override it. The list texts are replaced through the
view hooks here, and the flash messages when the staff layout shows them.
"""

from __future__ import annotations

from flask import get_flashed_messages
from flask_admin.babel import gettext as flask_admin_gettext
from flask_admin.model.template import EditRowAction, TemplateLinkRowAction
from flask_babel import lazy_gettext as _l

# Stock message of flask-admin (its msgid) -> our text. "Failed to ..." follows
# the error that explains it, so ours only states what did not happen.
STOCK_FLASHES = {
    "Record was successfully created.": _l("Aangemaakt."),
    "Record was successfully saved.": _l("Wijzigingen bewaard."),
    "Record does not exist.": _l("Dit item bestaat niet (meer)."),
    "Failed to create record.": _l("Niet aangemaakt: verbeter wat hierboven staat en probeer opnieuw."),
    "Failed to save record.": _l("Niet bewaard: verbeter wat hierboven staat en probeer opnieuw."),
    "Permission denied.": _l("Je rol geeft geen toegang tot deze actie."),
}


def staff_flashes() -> list[tuple[str, str]]:
    """Return the flashed (category, message) pairs, with flask-admin's stock messages in our wording."""
    ours = {flask_admin_gettext(stock): str(text) for stock, text in STOCK_FLASHES.items()}
    return [(category, ours.get(message, message)) for category, message in get_flashed_messages(with_categories=True)]


class EditLinkAction(TemplateLinkRowAction):
    """The pencil link of a list row, titled "Bewerken" instead of flask-admin's "Een Record Bewerken"."""

    def __init__(self) -> None:
        super().__init__("row_actions.edit_row", _l("Bewerken"))


class StaffWordingMixin:
    """Mix into a flask-admin ModelView (before it) for our empty-list text and edit link title."""

    empty_list_message = _l("Er staat nog niets in deze lijst.")

    def get_empty_list_message(self) -> str:
        return str(self.empty_list_message)

    def get_list_row_actions(self):
        actions = super().get_list_row_actions()
        return [EditLinkAction() if isinstance(action, EditRowAction) else action for action in actions]
