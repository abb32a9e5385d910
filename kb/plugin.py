"""Registration of this package's commands and pipeline steps with the core."""

from helpdesk.plugins import Registry


def register(registry: Registry) -> None:
    pass
