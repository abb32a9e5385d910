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
from admin.forms import EmptyForm, LanguageForm, PasswordForm, TotpForm, TotpOffForm
from admin.views.access import RoleRequiredMixin
from helpdesk.accounts import services as accounts
from helpdesk.accounts.services import AccountError, ReauthenticationError


def totp_qr_svg(uri: str) -> Markup:
    """Return the otpauth URI as an inline SVG QR code, drawn on the server so no script or remote image is needed."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", border=4))


def reauth_failed_message() -> str:
    # One text for a wrong password, a wrong code and a locked account, so
    # that a stolen session cannot tell whether it guessed the password.
    return _(
        "Het huidige wachtwoord of de code klopt niet, of je account is tijdelijk geblokkeerd na te veel mislukte "
        "pogingen. Controleer ook de tijd op je telefoon."
    )


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
            totp_off_form=TotpOffForm(),
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
            return redirect(url_for(".index"))
        try:
            accounts.change_own_password(db(), user, form.current.data, form.new.data)
        except ReauthenticationError:
            # The failed attempt is counted and audit-logged, so keep it.
            db().commit()
            flash(_("Het huidige wachtwoord klopt niet, of je account is tijdelijk geblokkeerd na te veel mislukte pogingen."), "error")
            return redirect(url_for(".index"))
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
            flash(_("Vul je huidige wachtwoord en de code uit je app in."), "error")
            return redirect(retry_page)
        # The forced set-up requires the password too: a login moments ago does not prove who holds the cookie now.
        try:
            accounts.enable_totp(db(), current_settings(), user, form.password.data, form.code.data)
        except ReauthenticationError:
            db().commit()
            flash(reauth_failed_message(), "error")
            return redirect(retry_page)
        except AccountError:
            # No pending secret, from a stale page: the retry page shows a new one.
            return redirect(retry_page)
        db().commit()
        renew_session(user)
        flash(_("Tweestapsverificatie staat aan."), "success")
        return redirect(url_for("queue.index_view") if forced else url_for(".index"))

    @expose("/totp/off", methods=["POST"])
    def totp_off(self):
        form = TotpOffForm()
        user = staff()
        if accounts.totp_required(current_settings(), user):
            flash(_("Je rol vereist tweestapsverificatie: je kunt ze niet uitzetten."), "error")
            return redirect(url_for(".index"))
        if not form.validate_on_submit():
            flash(_("Vul je huidige wachtwoord en de code uit je app in."), "error")
            return redirect(url_for(".index"))
        try:
            accounts.disable_own_totp(db(), current_settings(), user, form.password.data, form.code.data)
        except ReauthenticationError:
            db().commit()
            flash(reauth_failed_message(), "error")
            return redirect(url_for(".index"))
        except AccountError:
            return redirect(url_for(".index"))
        db().commit()
        renew_session(user)
        flash(_("Tweestapsverificatie staat uit."), "info")
        return redirect(url_for(".index"))
