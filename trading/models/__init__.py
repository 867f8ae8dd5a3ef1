"""Trading models, one module per concept."""

from trading.models.document import DocumentDownload, TenderDocument
from trading.models.notice import RESULT_KINDS, ImmutableError, Notice, NoticeKind
from trading.models.participation import (
    Objection,
    ObjectionStatus,
    Question,
    Registration,
    RegistrationStatus,
)
from trading.models.step import ScheduledStep
from trading.models.tender import (
    READOUT_ITEMS,
    EvaluationMethod,
    Lot,
    ProcedureType,
    Tender,
    TenderStatus,
)

__all__ = [
    "READOUT_ITEMS",
    "RESULT_KINDS",
    "DocumentDownload",
    "EvaluationMethod",
    "ImmutableError",
    "Lot",
    "Notice",
    "NoticeKind",
    "Objection",
    "ObjectionStatus",
    "ProcedureType",
    "Question",
    "Registration",
    "RegistrationStatus",
    "ScheduledStep",
    "Tender",
    "TenderDocument",
    "TenderStatus",
]

# Sealed bids and the opening (trading/bids/, trading/opening/).
from trading.models.bid import (  # noqa: E402
    Bid,
    BidStatus,
    CustodianRole,
    KeyHolder,
    KeyShare,
    OpeningKey,
    RegisteredKey,
)
from trading.models.opening import (  # noqa: E402
    BidOpening,
    BidOpeningStatus,
    Confirmation,
    ConfirmationKind,
    FailureOutcome,
    Fault,
    LotOpening,
    LotOutcome,
    Opening,
    OpeningObjection,
    OpeningState,
    ShareRelease,
    SignIn,
)

__all__ += [
    "Bid", "BidOpening", "BidOpeningStatus", "BidStatus", "Confirmation", "ConfirmationKind", "CustodianRole",
    "FailureOutcome", "Fault", "KeyHolder", "KeyShare", "LotOpening", "LotOutcome", "Opening", "OpeningKey",
    "OpeningObjection", "OpeningState", "RegisteredKey", "ShareRelease", "SignIn",
]

# Bid deposits (trading/deposits/).
from trading.models.deposit import (  # noqa: E402
    BankMessage,
    BankTransaction,
    DepositAccount,
    DepositEntry,
    DepositStatus,
    DepositWarning,
    GuaranteeIssuer,
    GuaranteeLetter,
    RefundInstruction,
    RefundItem,
    StatementImport,
    StatementLine,
)

__all__ += [
    "BankMessage", "BankTransaction", "DepositAccount", "DepositEntry", "DepositStatus", "DepositWarning",
    "GuaranteeIssuer", "GuaranteeLetter", "RefundInstruction", "RefundItem", "StatementImport", "StatementLine",
]

# The sandbox clock's offset (trading/sandbox.py).
from trading.models.sandbox import SandboxClock  # noqa: E402

__all__ += ["SandboxClock"]
