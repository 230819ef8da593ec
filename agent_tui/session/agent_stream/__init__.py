"""The agent-session stream (``lk.agent.session``): its protobuf codec, the request/response client over it,
the insight events it yields, and the merging of the agent's chat history into the transcript. Private:
front ends import the event types from :mod:`agent_tui.session`."""
