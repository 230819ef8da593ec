// components-js's Session API (useSession, useAgent, useSessionMessages) recording what it shows, for the
// differential test against agent-tui's Session: every change of the agent's state and helpers, and the
// message list, goes to window.__event. Bundled by driver.mjs with esbuild at start-up.
import React, { useEffect, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { TokenSource } from "livekit-client";
// livekit-client's own protocol package (a dependency of it, pinned by the lock): components-js has no
// text-mode API, so the page asks the agent's session host itself, as a web front end would.
import { AgentSession } from "@livekit/protocol";

const { AgentSessionMessage, SessionRequest, SessionRequest_UpdateIO } = AgentSession;
import { SessionProvider, useAgent, useSession, useSessionMessages } from "@livekit/components-react";

const emit = (event) => window.__event(JSON.stringify(event));

function Recorder({ session }) {
  const agent = useAgent(session);
  const { messages, send } = useSessionMessages(session);
  const failures = JSON.stringify(agent.failureReasons);
  useEffect(() => {
    emit({
      type: "js_agent", state: agent.state, identity: agent.identity || null,
      isConnected: agent.isConnected, canListen: agent.canListen,
      isFinished: agent.isFinished, isPending: agent.isPending, failureReasons: agent.failureReasons,
    });
  }, [agent.state, agent.identity, agent.isConnected, agent.canListen, agent.isFinished, agent.isPending, failures]);
  useEffect(() => {
    emit({
      type: "js_messages",
      messages: messages.map((m) => ({
        id: m.id, type: m.type, local: Boolean(m.from && m.from.isLocal), from: m.from && m.from.identity,
        text: m.message,
        // chat messages are whole; a transcription is final once its stream says lk.transcription_final
        final: m.type === "chatMessage" || (m.attributes || {})["lk.transcription_final"] === "true",
      })),
    });
  }, [messages]);
  useEffect(() => { window.__sessionSend = send; }, [send]);
  return null;
}

function App({ config }) {
  const source = useMemo(
    () => TokenSource.literal({ serverUrl: config.url, participantToken: config.token }), [config],
  );
  const session = useSession(source, { agentConnectTimeoutMilliseconds: config.agentTimeoutMs });
  useEffect(() => { window.__session = session; }, [session]);
  useEffect(() => {
    emit({ type: "js_session", connectionState: session.connectionState, isConnected: session.isConnected });
  }, [session.connectionState, session.isConnected]);
  return (
    <SessionProvider session={session}>
      <Recorder session={session} />
    </SessionProvider>
  );
}

window.sessionApp = {
  async start(config) {
    const root = document.createElement("div");
    document.body.appendChild(root);
    createRoot(root).render(<App config={config} />);
    while (!window.__session) await new Promise((r) => setTimeout(r, 10));
    // Not awaited: start() may wait for the agent; what happens meanwhile is what is recorded.
    window.__session.start({ tracks: { microphone: { enabled: false } } }).then(
      () => emit({ type: "js_started" }),
      (error) => emit({ type: "js_start_failed", message: String(error && error.message || error) }),
    );
    return true;
  },
  async send(text) {
    const message = await window.__sessionSend(text);
    return { id: message.id };
  },
  // Text mode on/off as agent-tui's Session asks for it (update_io on lk.agent.session: input and output
  // audio both off, transcription left alone); resolves once the agent's session host answered.
  async textMode(on) {
    const room = window.__session.room;
    const agent = [...room.remoteParticipants.values()].find((p) => p.isAgent);
    if (!agent) throw new Error("no agent in the room");
    if (!window.__sessionAnswers) {
      window.__sessionAnswers = new Map();
      room.registerByteStreamHandler("lk.agent.session", async (reader) => {
        const chunks = await reader.readAll();
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const chunk of chunks) { bytes.set(chunk, at); at += chunk.byteLength; }
        const message = AgentSessionMessage.fromBinary(bytes);
        if (message.message.case !== "response") return;
        const answer = window.__sessionAnswers.get(message.message.value.requestId);
        if (answer) answer(message.message.value);
      });
    }
    // The host may not be listening yet when the agent first shows up: ask again until it answers.
    for (let attempt = 0; attempt < 15; attempt++) {
      const requestId = `js-${Date.now()}-${attempt}`;
      const answered = new Promise((resolve) => window.__sessionAnswers.set(requestId, resolve));
      const request = new AgentSessionMessage({ message: { case: "request", value: new SessionRequest({
        requestId,
        request: { case: "updateIo", value: new SessionRequest_UpdateIO({
          input: { audioEnabled: !on }, output: { audioEnabled: !on },
        }) },
      }) } });
      const writer = await room.localParticipant.streamBytes({
        name: `AS_${requestId}`, topic: "lk.agent.session", destinationIdentities: [agent.identity],
      });
      await writer.write(request.toBinary());
      await writer.close();
      const response = await Promise.race([answered, new Promise((r) => setTimeout(() => r(null), 1000))]);
      window.__sessionAnswers.delete(requestId);
      if (response) {
        if (response.error) throw new Error(`update_io: ${response.error}`);
        return response.response.case;
      }
    }
    throw new Error("the agent's session host did not answer update_io");
  },
  async end() {
    await window.__session.end();
    return true;
  },
};
