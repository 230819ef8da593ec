"""``python -m agent_tui``: the same command as the ``agent-tui`` console script."""

from agent_tui.cli import run

run()
