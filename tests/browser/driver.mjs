// Drives LiveKit's JS SDK in Debian's Chromium for agent-tui's end-to-end tests.
//
// stdin: one JSON command per line, {"id": N, "op": "connect", "args": [...]}, calling window.lk[op](...args)
// in the page; stdout: one JSON line per answer, {"id": N, "ok": true, "result": ...} or {"id": N, "ok":
// false, "error": {...}}, and one per room event, {"event": {...}}. The page and livekit-client's UMD build
// are served from 127.0.0.1 by this process. Chromium runs headless with no background networking, a fresh
// profile, and a fake microphone; it is never downloaded (CHROMIUM, default /usr/bin/chromium).
import { createServer } from "node:http";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const files = {
  "/": ["page.html", "text/html"],
  "/livekit-client.umd.js": ["node_modules/livekit-client/dist/livekit-client.umd.js", "text/javascript"],
  "/favicon.ico": ["page.html", "text/plain"],
};
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");

// components-js's hooks need React and a bundler: build the differential test's app once, offline.
const bundle = await build({
  entryPoints: [join(here, "session_app.jsx")], bundle: true, write: false, format: "iife",
  jsx: "automatic", define: { "process.env.NODE_ENV": '"production"' }, logLevel: "silent",
});
const sessionApp = bundle.outputFiles[0].contents;

const server = createServer(async (request, response) => {
  const path = new URL(request.url, "http://x").pathname;
  if (path === "/session-app.js") {
    response.writeHead(200, { "Content-Type": "text/javascript" }).end(sessionApp);
    return;
  }
  const entry = files[path];
  if (!entry) { response.writeHead(404).end(); return; }
  response.writeHead(200, { "Content-Type": entry[1] }).end(await readFile(join(here, entry[0])));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const profile = await mkdtemp(join(tmpdir(), "agent-tui-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--metrics-recording-only", "--disable-domain-reliability", "--no-pings",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
const page = context.pages()[0] || (await context.newPage());
page.on("console", (message) => out({ event: { type: "console", level: message.type(), text: message.text() } }));
await page.exposeFunction("__event", (json) => out({ event: JSON.parse(json) }));
await page.goto(`http://127.0.0.1:${server.address().port}/`);
out({ ready: true });

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await context.close().catch(() => {});
  server.close();
  await rm(profile, { recursive: true, force: true });
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const { id, op, args } = JSON.parse(line);
  try {
    const result = await page.evaluate(
      async ([name, values]) => {
        const [scope, method] = name.includes(".") ? name.split(".") : ["lk", name];
        const target = scope === "sessionApp" ? window.sessionApp : window.lk;
        try { return { ok: true, result: await target[method](...values) }; }
        catch (error) { return { ok: false, error: describeError(error) }; }
      },
      [op, args || []],
    );
    out({ id, ...result });
  } catch (error) {
    out({ id, ok: false, error: { name: "DriverError", message: String(error) } });
  }
});
lines.on("close", shutdown);
process.on("SIGTERM", shutdown);
