"""A protocol-level fake of a livekit-agents worker, for tests of the ``/agent`` endpoint and the dispatcher.

It is an aiohttp WebSocket speaking the same protobufs as livekit-agents, so each step of the exchange
(registration, availability, assignment, job status, disconnect) can be driven and checked exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
from livekit import api
from livekit.protocol import agent as agent_pb
from livekit.protocol import models

from agent_tui.devserver import DEFAULT_API_KEY, DEFAULT_API_SECRET


def worker_token(*, agent: bool = True, secret: str = DEFAULT_API_SECRET) -> str:
    return api.AccessToken(DEFAULT_API_KEY, secret).with_grants(api.VideoGrants(agent=agent)).to_jwt()


class FakeWorker:
    """A worker connection; ``messages`` holds what the server sent, in order."""

    def __init__(self, http: aiohttp.ClientSession, url: str, agent_name: str) -> None:
        self._http = http
        self._url = url
        self.agent_name = agent_name
        self.messages: asyncio.Queue[agent_pb.ServerMessage] = asyncio.Queue()
        self.worker_id = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    async def register(self) -> str:
        self._ws = await self._http.ws_connect(
            f"{self._url}/agent", headers={"Authorization": f"Bearer {worker_token()}"}
        )
        register = agent_pb.RegisterWorkerRequest(
            type=agent_pb.JobType.JT_ROOM,
            agent_name=self.agent_name,
            version="fake",
            allowed_permissions=models.ParticipantPermission(
                can_publish=True,
                can_subscribe=True,
                can_publish_data=True,
                can_update_metadata=True,
                agent=True,
            ),
        )
        await self.send(agent_pb.WorkerMessage(register=register))
        first = agent_pb.ServerMessage.FromString(await self._ws.receive_bytes(timeout=5))
        assert first.WhichOneof("message") == "register", first
        self.worker_id = first.register.worker_id
        self._reader = asyncio.create_task(self._read())
        return self.worker_id

    async def send(self, message: agent_pb.WorkerMessage) -> None:
        assert self._ws is not None
        await self._ws.send_bytes(message.SerializeToString())

    async def report(
        self, load: float, status: agent_pb.WorkerStatus = agent_pb.WorkerStatus.WS_AVAILABLE
    ) -> None:
        await self.send(
            agent_pb.WorkerMessage(update_worker=agent_pb.UpdateWorkerStatus(status=status, load=load))
        )

    async def next(self, kind: str) -> agent_pb.ServerMessage:
        message = await asyncio.wait_for(self.messages.get(), timeout=10)
        assert message.WhichOneof("message") == kind, message
        return message

    async def accept(
        self, job: agent_pb.Job, identity: str, attributes: Mapping[str, str] | None = None
    ) -> agent_pb.JobAssignment:
        answer = agent_pb.AvailabilityResponse(
            job_id=job.id,
            available=True,
            participant_identity=identity,
            participant_name="Demo",
            participant_metadata='{"k":1}',
            participant_attributes={"lk.agent.name": self.agent_name, **(attributes or {})},
        )
        await self.send(agent_pb.WorkerMessage(availability=answer))
        return (await self.next("assignment")).assignment

    async def job_status(self, job_id: str, status: agent_pb.JobStatus, error: str = "") -> None:
        await self.send(
            agent_pb.WorkerMessage(
                update_job=agent_pb.UpdateJobStatus(job_id=job_id, status=status, error=error)
            )
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type == aiohttp.WSMsgType.BINARY:
                self.messages.put_nowait(agent_pb.ServerMessage.FromString(frame.data))
