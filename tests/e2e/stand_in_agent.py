"""An agent-side participant that speaks livekit-agents' room conventions with the real rtc SDK.

It joins with an AGENT-kind token and does on the wire what a livekit-agents voice agent does: it
publishes ``lk.agent.state`` (initializing → listening → thinking → speaking → listening), answers each
``lk.chat`` message with an agent transcription sent as one *delta* stream (header final=false, trailer
final=true), publishes the user's words as a user transcription (a full-text stream per update, sent on
the user's behalf with ``sender_identity``), answers the RPC method ``echo`` and can call the user.
Tests that need the livekit-agents framework itself use the demo worker instead.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

from livekit import rtc

TRANSCRIPTION = "lk.transcription"


class StandInAgent:
    def __init__(self, *, think_s: float = 0.2, speak_s: float = 0.2) -> None:
        self.room = rtc.Room()
        self.chats: list[tuple[str, str]] = []
        self.files: list[tuple[str, bytes]] = []
        self._think_s = think_s
        self._speak_s = speak_s
        self._tasks: set[asyncio.Task[None]] = set()
        self.room.register_text_stream_handler("lk.chat", self._on_chat)
        self.room.register_byte_stream_handler("files", self._on_file)

    @property
    def identity(self) -> str:
        return self.room.local_participant.identity

    def on_connected(self) -> None:
        """Register RPC methods; the rtc SDK only allows it once connected."""

        async def echo(data: rtc.RpcInvocationData) -> str:
            return f"echo:{data.payload}"

        self.room.local_participant.register_rpc_method("echo", echo)

    async def set_state(self, state: str) -> None:
        await self.room.local_participant.set_attributes({"lk.agent.state": state})

    def _on_chat(self, reader: rtc.TextStreamReader, sender: str) -> None:
        self._spawn(self._answer(reader, sender))

    def _on_file(self, reader: rtc.ByteStreamReader, sender: str) -> None:
        async def read() -> None:
            data = b"".join([chunk async for chunk in reader])
            self.files.append((reader.info.name, data))

        self._spawn(read())

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, reader: rtc.TextStreamReader, sender: str) -> None:
        text = await reader.read_all()
        self.chats.append((sender, text))
        participant = self.room.local_participant
        await self.set_state("thinking")
        await self.send_user_transcript(sender, text)
        await asyncio.sleep(self._think_s)
        await self.set_state("speaking")
        await self.send_agent_transcript(["You said: ", text])
        await asyncio.sleep(self._speak_s)
        await participant.set_attributes({"lk.agent.state": "listening"})

    async def send_agent_transcript(
        self,
        deltas: list[str],
        *,
        pause_s: float = 0.05,
        header: Mapping[str, str] | None = None,
        trailer: Mapping[str, str] | None = None,
    ) -> str:
        """One delta stream for one segment, as RoomIO's transcription output sends agent speech;
        ``header`` / ``trailer`` add attributes (``lk.expression`` rides both in livekit-agents)."""
        segment = f"SG_{uuid.uuid4().hex[:8]}"
        writer = await self.room.local_participant.stream_text(
            topic=TRANSCRIPTION,
            attributes={"lk.segment_id": segment, "lk.transcription_final": "false", **(header or {})},
        )
        for delta in deltas:
            await writer.write(delta)
            await asyncio.sleep(pause_s)
        await writer.aclose(attributes={"lk.transcription_final": "true", **(trailer or {})})
        return segment

    async def send_user_transcript(self, user_identity: str, text: str) -> str:
        """Growing full-text streams sharing a segment id, sent on the user's behalf."""
        segment = f"SG_{uuid.uuid4().hex[:8]}"
        words = text.split()
        for count in range(1, len(words) + 1):
            final = "true" if count == len(words) else "false"
            writer = await self.room.local_participant.stream_text(
                topic=TRANSCRIPTION,
                sender_identity=user_identity,
                attributes={"lk.segment_id": segment, "lk.transcription_final": final},
            )
            await writer.write(" ".join(words[:count]))
            await writer.aclose(attributes={"lk.transcription_final": final})
        return segment

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.room.isconnected():
            await self.room.disconnect()
