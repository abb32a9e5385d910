"""Registration of this package's commands and pipeline steps with the core."""

from helpdesk.plugins import Registry


def register(registry: Registry) -> None:
    # Importing the models puts the knowledge-base tables into Base.metadata.
    import kb.models  # noqa: F401
    from kb.commands import kb_group, suggest_command
    from kb.pipeline import suggest_for_message

    registry.add_command(kb_group)
    registry.add_command(suggest_command)
    registry.add_ingest_step(suggest_for_message)
