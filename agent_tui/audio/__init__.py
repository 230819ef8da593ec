"""The audio engine: microphone and speaker through LiveKit tracks (see :mod:`.controls`)."""
