// components-js's Session API (useSession, useAgent, useSessionMessages) recording what it shows, for the
// differential test against agent-tui's Session: every change of the agent's state and helpers, and the
// message list, goes to window.__event. Bundled by driver.mjs with esbuild at start-up.
import React, { useEffect, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { TokenSource } from "livekit-client";
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
  async end() {
    await window.__session.end();
    return true;
  },
};
