"""Email helpdesk core: configuration, storage, mail ingestion, redaction and sending."""
