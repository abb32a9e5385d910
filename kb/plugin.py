"""Registration of this package's commands and pipeline steps with the core."""

from helpdesk.plugins import Registry


def register(registry: Registry) -> None:
    # Importing the models puts the knowledge-base tables into Base.metadata.
    import kb.faq_models  # noqa: F401
    import kb.mining_models  # noqa: F401
    import kb.models  # noqa: F401
    from kb.commands import kb_group, suggest_command
    from kb.faq_commands import faq_group
    from kb.pipeline import SuggestionPreparer, annotate_message, suggest_for_message

    registry.add_command(kb_group)
    registry.add_command(suggest_command)
    registry.add_command(faq_group)
    registry.add_ingest_annotator(annotate_message)
    registry.add_ingest_step(suggest_for_message)
    registry.add_ingest_preparer(SuggestionPreparer())
