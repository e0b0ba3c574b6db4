"""Operators' tools: command line, local runner, broker exporter, deployment generators,
dead-letter tool. Above the services; nothing in services/ or onestop/ imports from here."""
