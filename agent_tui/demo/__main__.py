"""``python -m agent_tui.demo start|check``: the offline demo worker (:mod:`.launch`, then :mod:`.worker`)."""

from __future__ import annotations

import sys

from .launch import main

if __name__ == "__main__":
    sys.exit(main())
