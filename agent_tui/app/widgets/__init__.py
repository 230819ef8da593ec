"""Widgets of the main screen; each is driven by the app and knows nothing of the Session."""
