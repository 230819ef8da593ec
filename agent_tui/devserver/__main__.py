"""``python -m agent_tui.devserver``: the ``agent-tui dev-server`` command without the rest of the CLI."""

from __future__ import annotations

import argparse
import sys

from .command import add_arguments, run


def main() -> int:
    """Parse the dev-server options and run it."""
    parser = argparse.ArgumentParser(prog="python -m agent_tui.devserver", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
