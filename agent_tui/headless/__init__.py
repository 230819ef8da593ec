"""The ``--no-ui`` front end: the same Session as the terminal UI, printed as lines or JSON Lines.

:func:`~agent_tui.headless.runner.run_headless` runs it; :mod:`.records` is the one mapping from session
events to output records, which :mod:`.lines` and :mod:`.jsonl` render and :mod:`.transcript_file`
appends to disk.
"""
