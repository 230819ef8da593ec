"""agent-tui: a terminal client for LiveKit voice agents.

The UI-free core lives in :mod:`agent_tui.session`; this top-level module stays import-light so that
``agent-tui --help`` and ``--version`` answer without loading the rtc SDK, Textual or numpy.
"""

__version__ = "0.1.0"
