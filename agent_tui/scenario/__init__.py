"""`agent-tui test`: scripted conversations with a voice agent, run through a real room as tests."""
