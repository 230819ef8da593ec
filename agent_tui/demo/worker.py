"""The demo worker: an ``AgentServer`` that registers as agent ``demo`` and runs fully offline.

Each job gets an ``AgentSession`` with silero VAD, :class:`~.stt_pocketsphinx.PocketsphinxSTT`,
:class:`~.llm_rules.RulesLLM` and :class:`~.tts_espeak.EspeakTTS`, joined to the room through the
framework's own RoomIO (``lk.agent.state``, ``lk.transcription`` for both speakers, ``lk.chat``
input, the ``lk.agent.session`` host). In push-to-talk mode turns are manual and driven by the
``start_turn`` / ``end_turn`` / ``cancel_turn`` RPCs (:mod:`.ptt`).

What livekit-agents 1.8.9 would otherwise reach beyond the LiveKit server, and how it is avoided:

* **Turn detection**: ``AgentSession`` defaults to ``inference.TurnDetector()``, which in dev or
  hosted mode is the cloud model at ``agent-gateway.livekit.cloud`` (it authenticates with
  ``LIVEKIT_API_KEY``/``SECRET``, which a worker has) and otherwise the local ``turn-detector-v1-mini``.
  The session passes ``turn_detection="vad"`` (or ``"manual"``) explicitly, so no detector stream is
  ever opened. (The default object is still constructed by 1.8.9's eager ``dict.get`` default, but
  construction opens nothing.)
* **Interruption**: "adaptive" interruption is a cloud model (``AdaptiveInterruptionDetector``);
  ``interruption={"mode": "vad"}`` selects local VAD-based interruption.
* **Default VAD / STT / LLM / TTS**: unset components or model strings resolve to LiveKit Inference;
  every component is given as an object, ``vad`` included.
* **Observability**: session reports, traces and logs are uploaded to ``LIVEKIT_OBSERVABILITY_URL``
  or to a ``*.livekit.cloud`` host when the server enables recording for the job. The session starts
  with ``record=False`` and the worker drops ``LIVEKIT_OBSERVABILITY_URL`` from its environment.
* **Proxy**: the worker would tunnel its server connection through ``HTTPS_PROXY``/``HTTP_PROXY``;
  it is told ``http_proxy=None``.
* **Local inference preload**: the forkserver would load the 244 MB local end-of-turn weights it will
  never use; ``LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE=0`` skips that (no network either way).
* **Health server**: production mode binds an HTTP health server on all interfaces, port 8081; here
  it binds 127.0.0.1 on a free port.

The CLI reuses livekit-agents' own ``start`` runner (``livekit.agents.cli.cli._run_worker``, exactly
what ``python -m livekit.agents start`` calls), because the public ``cli.run_app`` is the deprecated
typer CLI that reads ``sys.argv`` and cannot take the demo's own options.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from livekit.agents import AgentServer, AgentSession, JobContext, JobProcess, JobRequest
from livekit.agents._exceptions import APIError
from livekit.agents.vad import VAD
from livekit.agents.voice.turn import TurnHandlingOptions
from livekit.plugins import silero

from . import (
    format_ready_line,
)
from .agent import DemoAgent
from .config import DemoConfig, prepare_offline_environment
from .forkserver import FORKSERVER_PRELOAD, PRELOAD_MODULES, framework_preload
from .llm_rules import RulesLLM
from .ptt import PTT_ATTRIBUTE, PushToTalk
from .responder import GREETING_TEXT
from .stt_pocketsphinx import PocketsphinxSTT, jsgf_from_phrases
from .tts_espeak import (
    EspeakNotInstalledError,
    EspeakTTS,
    find_espeak,
)

__all__ = [
    "DemoConfig",
    "build_server",
    "build_session",
    "build_stt",
    "build_tts",
    "entrypoint",
    "main",
    "prepare_offline_environment",
    "prewarm",
    "request_fnc",
    "serve",
]

logger = logging.getLogger("agent_tui.demo")


def build_stt(config: DemoConfig) -> PocketsphinxSTT:
    return PocketsphinxSTT(grammar=config.read_grammar())


def build_tts(config: DemoConfig) -> EspeakTTS:
    return EspeakTTS(voice=config.voice, rate_wpm=config.rate_wpm)


def build_session(
    config: DemoConfig,
    *,
    vad: VAD | None,
    stt: PocketsphinxSTT | None,
    tts: EspeakTTS | None,
) -> AgentSession[None]:
    """The session every job runs; see the module docstring for the offline choices made here.

    ``None`` leaves a component out (``vad=None`` opts out of the framework's default VAD, which
    would otherwise be LiveKit Inference's); tests use that for text-only sessions.
    """
    return AgentSession(
        vad=vad,
        stt=stt,
        llm=RulesLLM(),
        tts=tts,
        turn_handling=TurnHandlingOptions(
            turn_detection="manual" if config.ptt else "vad",
            interruption={"mode": "vad"},
        ),
    )


def prewarm(proc: JobProcess) -> None:
    """Load the models once per job process, before a job arrives (blocking is fine here)."""
    config = DemoConfig.from_env()
    proc.userdata["vad"] = silero.VAD.load()
    stt = build_stt(config)
    stt.preload()
    proc.userdata["stt"] = stt


async def request_fnc(req: JobRequest) -> None:
    """Accept every job; in PTT mode advertise it with the ``push-to-talk`` attribute."""
    config = DemoConfig.from_env()
    await req.accept(attributes={PTT_ATTRIBUTE: "1"} if config.ptt else None)


async def entrypoint(ctx: JobContext) -> None:
    """One job: start the session in the room; in PTT mode, register the turn RPCs."""
    config = DemoConfig.from_env()
    vad = ctx.proc.userdata.get("vad")
    if vad is None:
        vad = await asyncio.get_running_loop().run_in_executor(None, silero.VAD.load)
    stt = ctx.proc.userdata.get("stt") or build_stt(config)
    session = build_session(config, vad=vad, stt=stt, tts=build_tts(config))
    agent = DemoAgent(greeting=GREETING_TEXT if config.greeting else None)
    # record=False: no session report, trace or log upload, whatever the server asks for
    await session.start(agent=agent, room=ctx.room, record=False)
    if config.ptt:
        ptt = PushToTalk(session)
        ptt.disable_audio_input()
        ptt.register(ctx.room.local_participant)
        logger.info("push-to-talk RPC methods registered")


#: How many conversations the demo worker takes at once before it reports itself full.
DEMO_CAPACITY = 8
#: Job processes kept loaded and waiting. livekit-agents (1.8) judges a job request that comes while no
#: job runs by its load threshold over this number, so with one, the second of two simultaneous requests
#: is refused, and no server offers a refused job again: two callers dialling at once (``agent-tui load
#: --processes 2``, two terminals) lost one agent. Two lets two come at once, for one more warm process.
DEMO_IDLE_PROCESSES = 2
#: How long a job process may take to load the speech models. livekit-agents' 10 s default is exceeded
#: on a busy 2-core machine (a first run, with cold caches): the process is killed, and the job with it.
INITIALIZE_PROCESS_TIMEOUT_S = 60.0


def demo_load(server: AgentServer) -> float:
    """The worker's load as it reports it: its share of :data:`DEMO_CAPACITY` in use.

    livekit-agents' default is the machine's CPU use, and a worker above 0.7 reports itself full, so
    servers offer it nothing. The demo's worker shares a laptop with the client, the server and whatever
    else runs: on a busy machine (the very first run, say) the CPU-based load turned every dispatch away
    and the client saw "Agent did not join". One local user is never too many for it.
    """
    return min(len(server.active_jobs) / DEMO_CAPACITY, 1.0)


def build_server(config: DemoConfig) -> AgentServer:
    """The worker, registered under ``config.agent_name``, announcing readiness on stdout."""
    server = AgentServer(
        setup_fnc=prewarm,
        preload_modules=list(PRELOAD_MODULES),
        load_fnc=demo_load,
        num_idle_processes=DEMO_IDLE_PROCESSES,
        initialize_process_timeout=INITIALIZE_PROCESS_TIMEOUT_S,
        host="127.0.0.1",
        port=0,
        http_proxy=None,
    )
    server.rtc_session(entrypoint, agent_name=config.agent_name, on_request=request_fnc)

    def _announce(worker_id: str, *_: Any) -> None:
        print(format_ready_line(server._agent_name, worker_id), flush=True)

    server.on("worker_registered", _announce)
    from livekit.agents import Plugin

    wanted = framework_preload([p.package for p in Plugin.registered_plugins], PRELOAD_MODULES)
    if tuple(wanted) != FORKSERVER_PRELOAD:
        logger.warning("the forkserver started early preloads %s, not %s", FORKSERVER_PRELOAD, wanted)
    return server


async def _check(config: DemoConfig) -> bool:
    """Synthesise a phrase, recognise it with a one-phrase grammar, print the figures."""
    phrase = "hello what time is it"
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    await loop.run_in_executor(None, silero.VAD.load)
    print(f"silero VAD loaded in {time.perf_counter() - started:.2f} s")
    tts = build_tts(config)
    started = time.perf_counter()
    audio = await tts.synthesize(phrase).collect()
    print(
        f"espeak-ng ({config.voice}, {config.rate_wpm} wpm): {audio.duration:.2f} s of audio "
        f"in {time.perf_counter() - started:.3f} s"
    )
    stt = PocketsphinxSTT(grammar=jsgf_from_phrases([phrase]))
    started = time.perf_counter()
    event = await stt.recognize(audio)
    heard = event.alternatives[0].text if event.alternatives else ""
    print(f"pocketsphinx heard {heard!r} in {time.perf_counter() - started:.3f} s")
    return heard == phrase


def serve(args: argparse.Namespace, config: DemoConfig, server: tuple[str, str, str] | None) -> int:
    """The heavy half of :func:`.launch.main`: check the speech components, then ``check`` them or
    serve jobs on ``server`` (url, key, secret)."""
    try:
        stt = build_stt(config)
        if config.jsgf_path is not None:
            stt.preload()  # a grammar with words missing from the dictionary fails here, not in a job
    except (ValueError, OSError, APIError) as e:
        print(f"agent-tui demo: {e}", file=sys.stderr)
        return 2
    try:
        find_espeak()
    except EspeakNotInstalledError as e:
        print(f"agent-tui demo: {e}", file=sys.stderr)
        return 1
    if server is None:
        return 0 if asyncio.run(_check(config)) else 1
    url, api_key, api_secret = server

    from livekit.agents.cli import proto
    from livekit.agents.cli.cli import _run_worker

    _run_worker(
        build_server(config),
        proto.CliArgs(
            log_level=args.log_level.upper(),
            url=url,
            api_key=api_key,
            api_secret=api_secret,
            log_format=args.log_format,
        ),
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m agent_tui.demo start|check`` (:func:`.launch.main`); returns the exit status."""
    from .launch import main as launch_main

    return launch_main(argv)
