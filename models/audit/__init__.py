"""The audit trail: append-only, chained with a keyed HMAC, checkpointed outside the database.

- **Append** (``append_audit_event``, every caller; ``append_audit_record`` where only
  the row matters, the work queue's clicks): one unchained INSERT in the
  caller's transaction, no lock (``events``).
- **Seal** (``seal_pending``: the sweep flow, ``claimdesk audit seal``, verify): one
  sealer at a time chains the committed unsealed events with HMAC-SHA256 under a
  key that lives outside the database (``keys``; why seal order, in ``chain``).
- **Checkpoint** (``checkpoint``): a signed record of the chain head written to a
  file under the data folder or the S3 bucket every N sealed events, after each
  clean verify, and at shutdown (``write_checkpoint``).
- **Verify** (``verify_audit_trail``): the chain, the unsealed events and the newest
  checkpoint (``trail``).

The database refuses every UPDATE and DELETE except the sealer's one (NULL seal
columns set once, nothing else changed) by trigger. On PostgreSQL, migration 0006
creates two NOLOGIN roles: ``claimdesk_audit_writer`` (INSERT only; appends run as
it through ``SET ROLE``) and ``claimdesk_audit_sealer`` (SELECT, UPDATE of the seal
columns; the sealer runs as it). A deployment that wants the trigger to hold
against the app itself runs migrations as the owner of the tables and connects the
app as a login role that is granted both roles and DML on the other tables, but
owns nothing: it then cannot drop or disable the trigger, nor UPDATE or DELETE an
event. Whoever owns the tables, or has the database but not the key, can still
delete or rewrite rows; the MACs and the checkpoint are what show it.

What stays possible: rows appended since the last seal can be removed unseen by
someone who can bypass the trigger (seal often; the sweep does); events deleted
from the end after the last checkpoint show only at the next checkpoint's absence
of them, and a checkpoint file can be deleted by its host's owner (use the S3
store with Object Lock for that).
"""

from models.audit.chain import (
    GENESIS_HASH,
    ChainBreak,
    ChainHead,
    chain_head,
    count_unsealed,
    event_mac,
    seal_pending,
    verify_audit_chain,
)
from models.audit.checkpoint import (
    Checkpoint,
    CheckpointStore,
    LocalCheckpointStore,
    S3CheckpointStore,
    checkpointer,
    make_checkpoint_store,
    write_checkpoint,
)
from models.audit.events import (
    SEALER_ROLE,
    WRITER_ROLE,
    AuditEvent,
    append_audit_event,
    append_audit_record,
)
from models.audit.keys import audit_key, audit_key_path
from models.audit.trail import AuditReport, seal_and_checkpoint, verify_audit_trail

__all__ = [
    "GENESIS_HASH",
    "SEALER_ROLE",
    "WRITER_ROLE",
    "AuditEvent",
    "AuditReport",
    "ChainBreak",
    "ChainHead",
    "Checkpoint",
    "CheckpointStore",
    "LocalCheckpointStore",
    "S3CheckpointStore",
    "append_audit_event",
    "append_audit_record",
    "audit_key",
    "audit_key_path",
    "chain_head",
    "checkpointer",
    "count_unsealed",
    "event_mac",
    "make_checkpoint_store",
    "seal_and_checkpoint",
    "seal_pending",
    "verify_audit_chain",
    "verify_audit_trail",
    "write_checkpoint",
]
