"""Dutch labels (translated through the catalogues) for the codes the database stores.

The ticket page and the audit log show these labels instead of the codes.
tests/test_admin_ticket_labels.py finds every code the source code writes and
fails when one has no label here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from helpdesk.mail.problems import SEPARATOR, split_problem, stored_problems
from helpdesk.tickets.models import DeliveryState
from kb.urgency import DANGER, MINOR, PEP_WINDOW

EVENT_LABELS = {
    "created": _l("ticket aangemaakt"),
    "status_changed": _l("status gewijzigd"),
    "assigned": _l("toewijzing gewijzigd"),
    "team_changed": _l("team gewijzigd"),
    "note_added": _l("notitie toegevoegd"),
    "draft_recomposed": _l("concept opnieuw samengesteld"),
    "draft_snippet_inserted": _l("tekst ingevoegd in het concept"),
    "reply_queued": _l("antwoord in de wachtrij gezet"),
    "reply_retried": _l("verzending opnieuw geprobeerd"),
    "reply_sent": _l("antwoord verzonden"),
    "reply_failed": _l("verzending mislukt"),
    "merged_into": _l("samengevoegd met een ander ticket"),
    "merged_from": _l("ander ticket hierin samengevoegd"),
    "raw_downloaded": _l("ruw bericht gedownload"),
    "original_revealed": _l("origineel bekeken"),
    "client_reply": _l("nieuw bericht van de cliënt"),
    "reopened": _l("heropend door een bericht van de cliënt"),
    "quarantined": _l("in quarantaine gezet"),
    "automatic_message": _l("automatisch bericht ontvangen"),
    "reply_bounced": _l("antwoord teruggestuurd (bounce)"),
    "ingest_step_failed": _l("verwerking van een bericht deels mislukt"),
    "reply_from_other_address": _l("antwoord op ticket #%(ticket_id)s vanaf een ander adres"),
    "other_address_replied": _l("antwoord op dit ticket vanaf een ander adres, geopend als ticket #%(ticket_id)s"),
}

DELIVERY_LABELS = {
    DeliveryState.QUEUED: _l("in de wachtrij"),
    DeliveryState.SENDING: _l("wordt verzonden"),
    DeliveryState.SENT: _l("verzonden"),
    DeliveryState.FAILED: _l("mislukt"),
    DeliveryState.BOUNCED: _l("teruggestuurd (bounce)"),
}

URGENCY_LABELS = {
    DANGER: _l("iemand is in acuut gevaar"),
    PEP_WINDOW: _l("risico op hiv in de voorbije 72 uur (PEP)"),
    MINOR: _l("mogelijk een minderjarige"),
}

AUDIT_ACTION_LABELS = {
    "login": _l("aangemeld"),
    "login_failed": _l("aanmelden mislukt"),
    "logout": _l("afgemeld"),
    "settings": _l("instelling gewijzigd"),
    "reveal": _l("origineel bekeken"),
    "export": _l("geëxporteerd"),
    "send": _l("verzonden"),
    "merge": _l("samengevoegd"),
    "move": _l("naar een ander team verplaatst"),
    "erase": _l("gewist"),
    "publish": _l("gepubliceerd"),
    "unpublish": _l("publicatie ingetrokken"),
    "reauth_failed": _l("bevestiging met wachtwoord of code mislukt"),
}

AUDIT_OBJECT_LABELS = {
    "user": _l("gebruiker"),
    "ticket": _l("ticket"),
    "message": _l("bericht"),
    "article": _l("artikel"),
    "macro": _l("standaardantwoord"),
    "team": _l("team"),
    "mailbox_route": _l("mailboxroute"),
}


# The themes of kb/content. A theme an editor adds later is shown as stored.
THEME_LABELS = {
    "algemeen": _l("algemeen"),
    "gezondheid": _l("gezondheid"),
    "mensenhandel": _l("mensenhandel"),
    "testen": _l("testen"),
    "wetgeving": _l("wetgeving"),
}


def theme_label(theme: str | None) -> str:
    """Return the translated name of a stored theme, or the theme itself when it has no label."""
    return str(THEME_LABELS.get(theme, theme)) if theme else ""


# The problem codes of helpdesk.mail.problems. A label with %(detail)s shows the stored detail.
PARSE_PROBLEM_LABELS = {
    "message_id_missing": _l("Message-ID ontbreekt of is ongeldig, dus afgeleid van de ruwe bytes"),
    "date_missing": _l("datum ontbreekt"),
    "date_invalid": _l("datum ongeldig"),
    "headers_repaired": _l("kopregels hersteld"),
    "headers_unreadable": _l("kopregels onleesbaar (%(detail)s)"),
    "no_headers": _l("geen leesbare e-mail: geen kopregels gevonden"),
    "no_known_headers": _l("geen leesbare e-mail: geen bekende kopregels (From, To, Subject ...) gevonden"),
    "parse_failed": _l("lezen mislukt (%(detail)s)"),
    "ingest_failed": _l("verwerking mislukt (%(detail)s)"),
    "too_large": _l("bericht van %(detail)s bytes is groter dan de grens"),
    "mime_too_deep": _l("MIME-structuur dieper dan %(detail)s niveaus, als bijlage bewaard"),
    "multipart_empty": _l("MIME-deel zonder inhoud"),
    "partial_fragment": _l("slechts één deel van een gesplitst bericht"),
    "transfer_encoding_failed": _l("codering van een deel onleesbaar (%(detail)s)"),
    "mime_defects": _l("fouten in de MIME-structuur (%(detail)s)"),
    "charset_unknown": _l("onbekende tekenset, gelezen als %(detail)s"),
    "charset_invalid": _l("verkeerde tekenset opgegeven, gelezen als %(detail)s"),
    "charset_missing": _l("geen tekenset opgegeven, gelezen als %(detail)s"),
    "tnef_unreadable": _l("winmail.dat kon niet gelezen worden en is als bijlage bewaard"),
    "tnef_rtf_failed": _l("tekst in winmail.dat onleesbaar (%(detail)s)"),
    "calendar_unreadable": _l("agenda-uitnodiging onleesbaar (%(detail)s)"),
    "pgp_encrypted": _l("het bericht is versleuteld met PGP"),
    "smime_encrypted": _l("het bericht is versleuteld met S/MIME"),
    "smime_opaque_signed": _l("het bericht is ondertekend met S/MIME en niet uitgepakt"),
}

# The types of detected identifying details (helpdesk.redaction), named as the placeholders name them.
ENTITY_LABELS = {
    "PERSON": _l("naam"),
    "EMAIL": _l("e-mailadres"),
    "PHONE": _l("telefoonnummer"),
    "ADDRESS": _l("adres"),
    "IBAN": _l("rekeningnummer"),
    "NATIONAL_ID": _l("rijksregisternummer"),
    "LICENSE_PLATE": _l("nummerplaat"),
    "URL": _l("link"),
    "HANDLE": _l("gebruikersnaam"),
    "IP_ADDRESS": _l("ip-adres"),
    "DATE_OF_BIRTH": _l("geboortedatum"),
}

# The article fields that the publication check reads; image alt texts are "image:<id>".
ARTICLE_FIELD_LABELS = {
    "title": _l("Vraag (titel)"),
    "short_answer": _l("Kort antwoord"),
    "body": _l("Tekst"),
    "keywords": _l("Trefwoorden"),
}

# The keys of AuditEntry.detail. The audit log shows them in their stored order.
AUDIT_DETAIL_LABELS = {
    "change": _l("wijziging"),
    "failure": _l("reden"),
    "failed_logins": _l("mislukte pogingen na elkaar"),
    "locked": _l("geblokkeerd"),
    "role": _l("rol"),
    "via": _l("via"),
    "added": _l("toegevoegd"),
    "removed": _l("verwijderd"),
    "mailbox": _l("mailbox"),
    "from": _l("van team"),
    "to": _l("naar team"),
    "from_team": _l("van team"),
    "to_team": _l("naar team"),
    "set": _l("ingesteld"),
    "ticket_id": _l("ticket"),
    "source_id": _l("samengevoegd ticket"),
    "messages": _l("berichten"),
    "retry": _l("opnieuw geprobeerd"),
    "raw": _l("ruw bericht"),
    "slug": _l("artikel"),
    "language": _l("taal"),
    "version": _l("versie"),
    "restored_version": _l("teruggezette versie"),
    "image_id": _l("afbeelding"),
}

# Stored values of the "change", "failure" and "via" keys.
AUDIT_DETAIL_VALUE_LABELS = {
    "user_created": _l("account aangemaakt"),
    "user_changed": _l("account gewijzigd"),
    "password": _l("eigen wachtwoord gewijzigd"),
    "password_reset": _l("wachtwoord opnieuw ingesteld"),
    "unlock": _l("blokkering opgeheven"),
    "totp_enabled": _l("tweestapsverificatie aangezet"),
    "totp_disabled": _l("tweestapsverificatie uitgezet"),
    "team_created": _l("team aangemaakt"),
    "team_renamed": _l("team hernoemd"),
    "team_deleted": _l("team verwijderd"),
    "team_members": _l("leden gewijzigd"),
    "reply_address": _l("antwoordadres gewijzigd"),
    "macro_created": _l("standaardantwoord aangemaakt"),
    "macro_changed": _l("standaardantwoord gewijzigd"),
    "edited": _l("tekst gewijzigd"),
    "restored": _l("oudere versie teruggezet"),
    "image_added": _l("afbeelding toegevoegd"),
    "invalid": _l("onbekend adres of fout wachtwoord"),
    "locked": _l("account geblokkeerd"),
    "inactive": _l("account uitgeschakeld"),
    "totp_required": _l("verificatiecode ontbrak"),
    "totp_invalid": _l("verificatiecode fout"),
    "totp_replayed": _l("verificatiecode al gebruikt"),
    "cli": _l("opdrachtregel"),
}


def parse_problem_label(stored: str) -> str:
    """Return the label of one stored problem code, or the stored text itself when it is no known code."""
    code, detail = split_problem(stored)
    label = PARSE_PROBLEM_LABELS.get(code)
    if label is None:
        return stored
    return str(label) % {"detail": detail or "?"}


def describe_parse_problem(stored: str | None) -> str:
    """Return a stored Message.parse_problem or Ticket.quarantine_reason as labels joined by "; "."""
    return SEPARATOR.join(parse_problem_label(item) for item in stored_problems(stored))
