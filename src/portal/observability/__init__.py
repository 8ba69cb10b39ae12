"""Logs, metrics and traces: what an operator sees of a running instance.

Nothing here reads PHI, tokens or raw database text: request logs carry ids, names of operations,
status codes and timings; errors carry their type and stack, not their message (a database error
message can quote row values)."""
