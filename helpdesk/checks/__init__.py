"""Checks of an installation's settings and of the servers it talks to.

`helpdesk check` runs them all through `run_checks`. Each check returns one
`CheckResult` per thing it looked at, with a one-line message in Dutch or
English that names what is wrong and how to fix it. Messages never contain
passwords or keys.
"""

from helpdesk.checks.results import CheckContext, CheckResult, Status
from helpdesk.checks.runner import run_checks

__all__ = ["CheckContext", "CheckResult", "Status", "run_checks"]
