"""Running all checks in order, given settings or the error that loading them raised."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from helpdesk import metrics
from helpdesk.checks.addresses import check_from_address, check_public_url
from helpdesk.checks.database import check_database, check_stored_data, check_totp_secrets
from helpdesk.checks.masking import scrub, settings_secrets
from helpdesk.checks.results import DEFAULT_TIMEOUT_SECONDS, CheckContext, CheckResult, Status, one_line
from helpdesk.checks.secrets import check_encryption_key, check_secret_key
from helpdesk.checks.servers import check_broker, check_mailboxes, check_smtp, folder_problem
from helpdesk.checks.teams import check_teams
from helpdesk.config import ConfigError, Settings


def run_checks(
    load_settings: Callable[[], Settings],
    gettext: Callable[[str], str],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[CheckResult]:
    """Load the settings and run every check; return the results in the order they ran.

    When the settings cannot be loaded, the only result is the failed
    configuration check, because every other check needs them.
    """
    try:
        settings = load_settings()
    except ConfigError as error:
        message = gettext("De instellingen zijn ongeldig: {error}").format(error=one_line(error))
        return [CheckResult("configuration", Status.FAILED, message)]

    context = CheckContext(settings=settings, gettext=gettext, timeout=timeout)
    results = [CheckResult("configuration", Status.OK, gettext("De instellingen zijn geladen."))]

    database_results = check_database(context)
    encryption_key = check_encryption_key(context)
    database_ready = all(result.status is Status.OK for result in database_results)
    results += database_results
    results += [
        encryption_key,
        check_secret_key(context),
        check_stored_data(context, database_ready, encryption_key.status is Status.OK),
        check_totp_secrets(context, database_ready, encryption_key.status is Status.OK),
        check_teams(context, database_ready),
        check_broker(context),
        *check_mailboxes(context),
        check_smtp(context),
        check_public_url(context),
        check_from_address(context),
        check_metrics_directory(context),
    ]

    secrets = settings_secrets(settings)
    return [
        replace(result, message=scrub(result.message, secrets), target=result.target and scrub(result.target, secrets))
        for result in results
    ]


def check_metrics_directory(context: CheckContext) -> CheckResult:
    """Check the folder where processes keep their metrics in prometheus_client's multiprocess mode."""
    _ = context.gettext
    directory = metrics.multiprocess_directory()
    if directory is None:
        message = _(
            "PROMETHEUS_MULTIPROC_DIR is niet ingesteld, dus de metrics-exporter (`helpdesk metrics`, zie docs/deployment.md) "
            "ziet de tellers van web, worker en beat niet: zet de variabele in de unit-bestanden van die diensten."
        )
        return CheckResult("metrics", Status.WARNING, message)

    folder = Path(directory)
    problem = folder_problem(context, folder) if folder.is_dir() else _("ontbreekt")
    if problem:
        message = _("PROMETHEUS_MULTIPROC_DIR={folder} is niet bruikbaar ({problem}): maak de map aan voordat de diensten starten, anders stoppen ze bij de eerste meting.")
        return CheckResult("metrics", Status.FAILED, message.format(folder=folder, problem=problem), str(folder))
    message = _("PROMETHEUS_MULTIPROC_DIR={folder} is schrijfbaar.")
    return CheckResult("metrics", Status.OK, message.format(folder=folder), str(folder))
