"""Wiring, not core: how agent-tui's settings become a ready Session and its media, shared by every front end.

:mod:`.token_choice` picks the token source from the settings; :mod:`.session` builds the Session, starts the
audio engine and its bridge to the Session, and the video controller. It depends on the Session library
(:mod:`agent_tui.session`), the config and the media packages; nothing in the library depends on it.
"""
