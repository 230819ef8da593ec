"""What every kind of test shares (unit, app, audio, end-to-end): imported as ``tests.support``."""
