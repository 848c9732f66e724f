"""The ``copilot-sync`` command line (``run``, ``chat``, ``doctor``); ``copilot_sync.__main__``
is its thin entry point. Command-line code prints; the rest of the package never does."""
