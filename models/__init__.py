"""claimdesk's tables. Importing this package registers every table on ``SQLModel.metadata``."""

from models.audit import AuditEvent, append_audit_event, verify_audit_chain
from models.claims import Claim, ClaimBase, ClaimLine, ClaimLineBase, Diagnosis, DiagnosisBase
from models.documents import Document, DocumentLink
from models.edit_files import (
    EditDataFile,
    EditDataVersion,
    HcpcsCode,
    Icd10cmCode,
    MueEdit,
    NcciPtpEdit,
)
from models.gateway_state import PayerCircuit
from models.identities import LoginThrottle, UserIdentity, UserTotp
from models.learned_rules import LearnedRule
from models.ledger import ClaimCrossover, LedgerEntry, ProviderLedgerEntry
from models.patient_billing import (
    Deposit,
    DepositMatch,
    PatientPayment,
    PatientPaymentAllocation,
    PatientStatement,
    PatientStatementLine,
    PaymentPlan,
    PaymentPlanInstallment,
    PaymentReceipt,
    Refund,
)
from models.patients import (
    Appointment,
    Authorization,
    Coverage,
    CoverageBase,
    Patient,
    PatientBase,
)
from models.queue import SavedView
from models.reference import FeeSchedule, Payer, PayerBase, Practice, PracticeBase, Provider
from models.review import Comment, ReviewDecision, ReviewTask
from models.sequences import ControlSequence, allocate_control_numbers
from models.sessions import AppSession
from models.transactions import (
    Adjustment,
    Appeal,
    ClaimPayment,
    Denial,
    EligibilityCheck,
    RemarkCode,
    Remittance,
    ServicePayment,
    StatusCheck,
    Submission,
    SubmissionClaim,
)
from models.users import ROLES, User, UserBase

__all__ = [
    "ROLES",
    "Adjustment",
    "AppSession",
    "Appeal",
    "Appointment",
    "AuditEvent",
    "Authorization",
    "Claim",
    "ClaimBase",
    "ClaimCrossover",
    "ClaimLine",
    "ClaimLineBase",
    "ClaimPayment",
    "Comment",
    "ControlSequence",
    "Coverage",
    "CoverageBase",
    "Denial",
    "Deposit",
    "DepositMatch",
    "Diagnosis",
    "DiagnosisBase",
    "Document",
    "DocumentLink",
    "EditDataFile",
    "EditDataVersion",
    "EligibilityCheck",
    "FeeSchedule",
    "HcpcsCode",
    "Icd10cmCode",
    "LearnedRule",
    "LedgerEntry",
    "LoginThrottle",
    "MueEdit",
    "NcciPtpEdit",
    "Patient",
    "PatientBase",
    "PatientPayment",
    "PatientPaymentAllocation",
    "PatientStatement",
    "PatientStatementLine",
    "Payer",
    "PayerBase",
    "PayerCircuit",
    "PaymentPlan",
    "PaymentPlanInstallment",
    "PaymentReceipt",
    "Practice",
    "PracticeBase",
    "Provider",
    "ProviderLedgerEntry",
    "Refund",
    "RemarkCode",
    "Remittance",
    "ReviewDecision",
    "ReviewTask",
    "SavedView",
    "ServicePayment",
    "StatusCheck",
    "Submission",
    "SubmissionClaim",
    "User",
    "UserBase",
    "UserIdentity",
    "UserTotp",
    "allocate_control_numbers",
    "append_audit_event",
    "verify_audit_chain",
]
