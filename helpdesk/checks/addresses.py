"""Checks of the addresses that clients see: HELPDESK_PUBLIC_URL and HELPDESK_FROM_ADDRESS."""

from __future__ import annotations

import ipaddress
from email.headerregistry import Address
from email.errors import HeaderParseError
from urllib.parse import urlsplit

from helpdesk.checks.results import CheckContext, CheckResult, Status

# Names reserved by RFC 2606 and RFC 6761 and multicast DNS's .local: a link
# or reply address on them cannot reach a client.
RESERVED_SUFFIXES = (".invalid", ".test", ".example", ".localhost", ".local")


def is_local_host(host: str) -> bool:
    """Return whether `host` is a loopback address or a name that only resolves on this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_reserved(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in RESERVED_SUFFIXES)


def check_public_url(context: CheckContext) -> CheckResult:
    """Check that HELPDESK_PUBLIC_URL is an https address that clients can open.

    Only the form is checked, because the server often cannot reach its own
    public name, so a failed request from here would prove nothing.
    """
    _ = context.gettext
    url = context.settings.public_url
    parts = urlsplit(url)
    host = parts.hostname or ""

    if parts.scheme not in {"http", "https"} or not host:
        message = _("HELPDESK_PUBLIC_URL={url} is geen webadres: gebruik het https-adres waarop cliënten de FAQ openen, zoals https://vragen.voorbeeld.be.")
    elif parts.query or parts.fragment:
        message = _("HELPDESK_PUBLIC_URL={url} bevat een ? of #: laat alleen het adres en eventueel een pad staan.")
    elif is_local_host(host) or _is_reserved(host):
        message = _("HELPDESK_PUBLIC_URL={url} is alleen op deze machine of nergens bereikbaar: zet het openbare https-adres van de helpdesk.")
    elif parts.scheme != "https":
        message = _("HELPDESK_PUBLIC_URL={url} gebruikt http: zet https in het adres en laat de reverse proxy TLS afhandelen.")
    else:
        return CheckResult("public_url", Status.OK, _("HELPDESK_PUBLIC_URL={url} is een https-adres.").format(url=url), url)
    return CheckResult("public_url", Status.FAILED, message.format(url=url), url)


def check_from_address(context: CheckContext) -> CheckResult:
    """Check that HELPDESK_FROM_ADDRESS is a valid address on a real domain."""
    _ = context.gettext
    address = context.settings.from_address

    try:
        domain = Address(addr_spec=address).domain
    except (HeaderParseError, ValueError, IndexError):
        domain = ""
    if not domain or "." not in domain:
        message = _("HELPDESK_FROM_ADDRESS={address} is geen geldig e-mailadres: zet het adres waarop cliënten de helpdesk mailen.")
    elif _is_reserved(domain) or is_local_host(domain):
        message = _("HELPDESK_FROM_ADDRESS={address} ligt op een domein dat geen mail ontvangt: zet het adres waarop cliënten de helpdesk mailen.")
    else:
        return CheckResult("from_address", Status.OK, _("HELPDESK_FROM_ADDRESS={address} is ingesteld.").format(address=address), address)
    return CheckResult("from_address", Status.FAILED, message.format(address=address), address)
