"""Sending mail to clients: staff replies and the automatic acknowledgement.

- `services.queue_reply` stores a staff reply as a queued outbound message.
- `services.deliver` sends one queued or failed message and records the outcome.
- `services.due_message_ids` lists messages that wait for a (next) attempt.
- `acknowledgement.acknowledge_new_question` is the ingest step for the acknowledgement.
- `transports.transport_for` picks the file outbox or SMTP from HELPDESK_SMTP_URL.
"""
