"""The home page and the signed-in user's own settings: language, password and TOTP."""

from __future__ import annotations

import segno
from flask import flash, redirect, session, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from markupsafe import Markup

from admin.auth import StaffUser, staff
from admin.db import current_settings, db
from admin.forms import EmptyForm, LanguageForm, PasswordForm, TotpForm
from admin.views.access import RoleRequiredMixin
from helpdesk.accounts import services as accounts
from helpdesk.accounts.services import AccountError


def totp_qr_svg(uri: str) -> Markup:
    """Return the otpauth URI as an inline SVG QR code, drawn on the server so no script or remote image is needed."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", border=4))


def renew_session(user) -> None:
    """Sign this browser in again after a change that ended every session of `user`, keeping it signed in."""
    session.clear()
    login_user(StaffUser(user))
    session.permanent = True


class HomeView(RoleRequiredMixin, AdminIndexView):
    """The /admin/ page: the queue is where staff start."""

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Start"), url="/admin", **kwargs)

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("queue.index_view"))


class AccountView(RoleRequiredMixin, BaseView):
    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Mijn account"), endpoint="account", url="account", **kwargs)

    @expose("/")
    def index(self):
        user = staff()
        return self.render(
            "admin/account.html",
            user=user,
            language_form=LanguageForm(language=user.language),
            password_form=PasswordForm(),
            totp_required=accounts.totp_required(current_settings(), user),
            button_form=EmptyForm(),
            **self._enrolment(user),
        )

    @expose("/totp-setup")
    def totp_setup(self):
        """The only page a user whose role requires TOTP can open until it is set up."""
        user = staff()
        if user.totp_secret:
            return redirect(url_for("queue.index_view"))
        return self.render("admin/totp_setup.html", user=user, **self._enrolment(user))

    def _enrolment(self, user) -> dict:
        """Return the template values of the TOTP enrolment form, storing a pending secret on first view."""
        if user.totp_secret:
            return {}
        secret = accounts.pending_totp_secret(current_settings(), user)
        db().commit()
        return {
            "totp_form": TotpForm(),
            "totp_secret": secret,
            "totp_uri": accounts.totp_uri(user, secret),
            "totp_qr_svg": totp_qr_svg,
        }

    @expose("/language", methods=["POST"])
    def language(self):
        form = LanguageForm()
        if form.validate_on_submit():
            user = staff()
            user.language = form.language.data
            db().commit()
            flash(_("Taal bewaard."), "success")
        return redirect(url_for(".index"))

    @expose("/password", methods=["POST"])
    def password(self):
        form = PasswordForm()
        user = staff()
        if not form.validate_on_submit():
            flash(_("Het nieuwe wachtwoord moet minstens %(count)s tekens hebben.", count=accounts.MIN_PASSWORD_LENGTH), "error")
        elif not accounts.verify_password(user, form.current.data):
            flash(_("Het huidige wachtwoord klopt niet."), "error")
        else:
            accounts.set_password(db(), user, form.new.data)
            accounts.audit(db(), user, "settings", "user", user.id, detail={"change": "password"})
            db().commit()
            renew_session(user)
            flash(_("Wachtwoord gewijzigd. Je bent afgemeld op je andere toestellen."), "success")
        return redirect(url_for(".index"))

    @expose("/totp", methods=["POST"])
    def totp(self):
        form = TotpForm()
        user = staff()
        # A forced set-up goes back to its own page on error and on to the queue once done.
        forced = accounts.needs_totp_setup(current_settings(), user)
        retry_page = url_for(".totp_setup") if forced else url_for(".index")
        if not form.validate_on_submit():
            flash(_("Vul de code uit je app in."), "error")
            return redirect(retry_page)
        try:
            accounts.enable_totp(db(), current_settings(), user, form.code.data)
        except AccountError:
            flash(_("De code klopt niet. Controleer de tijd op je telefoon en probeer opnieuw."), "error")
            return redirect(retry_page)
        db().commit()
        renew_session(user)
        flash(_("Tweestapsverificatie staat aan."), "success")
        return redirect(url_for("queue.index_view") if forced else url_for(".index"))

    @expose("/totp/off", methods=["POST"])
    def totp_off(self):
        if not EmptyForm().validate_on_submit():
            return redirect(url_for(".index"))
        if accounts.totp_required(current_settings(), staff()):
            flash(_("Je rol vereist tweestapsverificatie: je kunt ze niet uitzetten."), "error")
            return redirect(url_for(".index"))
        user = staff()
        accounts.disable_totp(db(), user, user)
        db().commit()
        renew_session(user)
        flash(_("Tweestapsverificatie staat uit."), "info")
        return redirect(url_for(".index"))
