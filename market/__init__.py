"""Domain services: people, orders, contracts, settlement, disputes, statistics.

Plain async functions that take a session (owned by the caller's transaction) and raise
``UserFacingError`` for known business refusals.
"""
