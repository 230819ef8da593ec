"""``python -m agent_tui``: the same command as the ``agent-tui`` console script."""

import sys

from agent_tui.cli import main

sys.exit(main())
