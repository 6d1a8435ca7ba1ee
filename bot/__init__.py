"""Composition root: configuration, CLI, application wiring and channel adapters."""
