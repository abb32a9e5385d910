"""The knowledge base: FAQ articles, article suggestions, urgency and reply drafts.

Services for other packages:

- `kb.articles`: `create_draft`, `save_article` (a new version on change),
  `set_status`, `restore_version`, `list_versions`, `get_article`.
- `kb.transfer`: `import_directory` and `export_directory` for article files.
- `kb.drafts.compose_draft(session, settings, slugs, language, urgent_reason=None)`.
- `kb.pipeline.suggest_for_message`: the ingest step that kb/plugin.py registers.
"""
