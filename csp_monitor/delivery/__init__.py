"""The delivery layer: MIME messages, the outbox, and the transports (SMTP or a folder)."""
