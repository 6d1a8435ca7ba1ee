"""Conversation flows as explicit state machines, and the engine that runs them.

No platform imports here: adapters translate to and from ``dialogs.events``.
"""
