"""The one place the package's version is written.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), and ``copilot_sync.__version__``,
``copilot-sync --version`` and ``copilot-sync doctor`` report it, so the installed
distribution's metadata and the imported package can never disagree.
"""

__version__ = "0.2.0"
"""The version of this copilot-sync package."""
