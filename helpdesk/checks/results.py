"""The result type of a check and the context that every check receives."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

from helpdesk.config import Settings

DEFAULT_TIMEOUT_SECONDS = 10.0


class Status(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"  # works, but not as a production installation should
    FAILED = "failed"
    SKIPPED = "skipped"  # not checked because a check it depends on failed


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one thing, such as the database or one mailbox."""

    name: str  # stable English identifier for scripts: "database", "mailbox", ...
    status: Status
    message: str  # one line in the chosen language, without passwords
    target: str | None = None  # what was checked, with passwords masked

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


@dataclass(frozen=True)
class CheckContext:
    """Settings, the translation function and the network timeout shared by all checks."""

    settings: Settings
    gettext: Callable[[str], str]
    timeout: float = DEFAULT_TIMEOUT_SECONDS


def one_line(error: BaseException | str) -> str:
    """Return an error text on a single line, because each check prints one line."""
    text = " ".join(str(error).split())
    return text or type(error).__name__
