"""The wire (bottom layer): framing, the CLI process, transports, the JSON-RPC connection,
event dispatch threads, the worker pool, deadlines and the re-entrancy tables. Knows
nothing of sessions, clients or requests (tests/test_architecture.py checks it)."""
