"""A participant's outgoing signalling, independent of which WebSocket currently carries it.

A signal resume swaps the WebSocket under a live participant. Everything the room wants to tell the
participant goes through this link: while a socket is attached, one writer task sends in order; while
none is (the gap between a signal drop and the resume), messages wait. A message whose send fails
because the socket just died is kept and goes out first on the next socket, so a drop loses nothing.
Participant updates are not kept across the gap: the resume sends a fresh snapshot instead, and an old
update arriving after it could only roll the client's view back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Protocol

from livekit.protocol.rtc import SignalResponse

_log = logging.getLogger(__name__)

# Enough for a burst of answers, trickles and updates; a client that lets this many pile up is gone.
_MAX_PENDING = 512


class SignalSocket(Protocol):
    """The part of a WebSocket connection the link uses (``websockets`` ServerConnection fits)."""

    async def send(self, message: bytes) -> None: ...

    async def close(self) -> None: ...


class SignalLink:
    """Ordered delivery of ``SignalResponse`` messages to whichever socket is attached."""

    def __init__(self) -> None:
        self._pending: deque[SignalResponse] = deque()
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._socket: SignalSocket | None = None
        self._closed = False
        self._overflowing = False  # warned about a full backlog since it last drained
        self._writer = asyncio.create_task(self._write_loop(), name="devserver-signal-writer")

    @property
    def attached(self) -> bool:
        """Whether a socket is currently attached."""
        return self._socket is not None

    def send(self, message: SignalResponse) -> None:
        """Queue ``message`` for the participant; never blocks the caller."""
        if self._closed:
            return
        if self._socket is None and message.WhichOneof("message") == "update":
            return
        if len(self._pending) >= _MAX_PENDING:
            if not self._overflowing:  # one line per stall, not one per message dropped
                _log.warning("signal backlog full (the client is not reading); dropping the oldest messages")
                self._overflowing = True
            self._pending.popleft()
        self._pending.append(message)
        self._drained.clear()
        self._wakeup.set()

    def attach(self, socket: SignalSocket, *, first: list[SignalResponse]) -> SignalSocket | None:
        """Deliver to ``socket`` from now on (first join or resume), starting with ``first``.

        Returns the socket it replaces, if any, for the caller to close: the client has moved on from it.
        """
        previous, self._socket = self._socket, socket
        self._pending.extendleft(reversed(first))
        if self._pending:
            self._drained.clear()
        self._wakeup.set()
        return previous if previous is not socket else None

    def is_current(self, socket: SignalSocket) -> bool:
        """Whether ``socket`` is the one being delivered to."""
        return self._socket is socket

    def detach(self, socket: SignalSocket) -> None:
        """Stop using ``socket`` if it is still the attached one (its connection ended)."""
        if self._socket is socket:
            self._socket = None

    async def close(self) -> None:
        """Stop delivering, drop what is pending and close the attached socket."""
        self._closed = True
        self._pending.clear()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close()

    async def flush(self, *, within_s: float) -> None:
        """Wait up to ``within_s`` until everything queued went to the attached socket, if any."""
        if self._socket is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                await self._drained.wait()

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending and self._socket is not None:
                socket = self._socket
                message = self._pending[0]
                try:
                    await socket.send(message.SerializeToString())
                except Exception:  # the socket died mid-send: keep the message for the next socket
                    self.detach(socket)
                    break
                if self._pending and self._pending[0] is message:
                    self._pending.popleft()
            if not self._pending:
                self._overflowing = False
                self._drained.set()
