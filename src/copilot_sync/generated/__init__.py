"""Code generated from the Copilot CLI schemas (see scripts/generate_events.py)."""
