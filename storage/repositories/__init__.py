"""Repositories: intention-named queries over one session. They never commit."""

from storage.repositories.dialog_state import DialogStateRepository
from storage.repositories.inbound import InboundRepository
from storage.repositories.jobs import JobRunRepository
from storage.repositories.market import (
    AssignmentRepository,
    ChatGroupRepository,
    LedgerRepository,
    PaymentRepository,
    PriorityOfferRepository,
    PushLogRepository,
    RatingRepository,
    TrainingSignupRepository,
    WorkerProfileRepository,
)
from storage.repositories.nonces import CallbackNonceRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository
from storage.repositories.webchat import WebChatRepository

__all__ = [
    "AssignmentRepository",
    "CallbackNonceRepository",
    "ChatGroupRepository",
    "DialogStateRepository",
    "InboundRepository",
    "JobRunRepository",
    "LedgerRepository",
    "OutboxRepository",
    "PaymentRepository",
    "PriorityOfferRepository",
    "PushLogRepository",
    "RatingRepository",
    "TrainingSignupRepository",
    "UserRepository",
    "WebChatRepository",
    "WorkerProfileRepository",
]
