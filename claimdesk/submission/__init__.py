"""Submission: batches of scrubbed claims, the outbox, paper claims, and 999/277CA acknowledgements."""
