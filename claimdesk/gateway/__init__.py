"""Payer connectivity: the CAQH CORE envelope, the payer client, the outbox."""
