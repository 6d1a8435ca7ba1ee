"""Repositories: intention-named queries over one session. They never commit."""

from storage.repositories.dialog_state import DialogStateRepository
from storage.repositories.inbound import InboundRepository
from storage.repositories.nonces import CallbackNonceRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.users import UserRepository
from storage.repositories.webchat import WebChatRepository

__all__ = [
    "CallbackNonceRepository",
    "DialogStateRepository",
    "InboundRepository",
    "OutboxRepository",
    "UserRepository",
    "WebChatRepository",
]
