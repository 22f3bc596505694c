"""Submission: batches of scrubbed claims, the outbox, paper claims, 999/277CA acknowledgements."""
