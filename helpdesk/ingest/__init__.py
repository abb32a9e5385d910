"""Getting mail into tickets: sources (Maildir, IMAP), the ingest pipeline and polling.

- `pipeline.ingest_raw(session, settings, raw, source)` stores one raw mail.
- `polling.poll_mailbox(settings, url)` and `polling.poll_all(settings)` fetch new mail.
- `polling.idle_wait(settings, url, timeout)` waits for new mail (IMAP IDLE when offered).
- `removal.delete_mailbox_copies(settings, copies)` deletes stored mail from the server.
"""
