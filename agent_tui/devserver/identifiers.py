"""Server-assigned identifiers in LiveKit's shape.

The rtc SDK parses every sid it is given and rejects the ones without the right prefix (``RM_`` for rooms,
``PA_`` for participants, ``TR_`` for tracks; ``AW_``, ``AJ_`` and ``AD_`` for agent workers, jobs and
dispatches), so the dev server mints them the way LiveKit does: a prefix
and twelve random base-62 characters.
"""

from __future__ import annotations

import secrets
import string
from typing import Final

ROOM_PREFIX: Final = "RM_"
PARTICIPANT_PREFIX: Final = "PA_"
TRACK_PREFIX: Final = "TR_"
DATA_TRACK_PREFIX: Final = "DTR_"
WORKER_PREFIX: Final = "AW_"
JOB_PREFIX: Final = "AJ_"
DISPATCH_PREFIX: Final = "AD_"

_ALPHABET: Final = string.ascii_letters + string.digits


def new_sid(prefix: str) -> str:
    """A fresh sid such as ``PA_x8Rk2pQz0aBc``; random so that a rejoin never reuses an old sid."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(12))
