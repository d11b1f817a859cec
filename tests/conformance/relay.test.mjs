// The agent's window's relay (ui/static/relay.js), in a `vm` page with a fake document, a fake
// iframe and a fake Tauri core: what it forwards to the core, in which order and batches, and
// what it refuses to hear.
import test from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./harness.mjs";

const RELAY = path.join(ROOT, "ui/static/relay.js");
const WEBPHONE = "webphone://localhost";
const flush = () => new Promise((r) => setImmediate(r));

function page({ attach = () => Promise.resolve(null), phoneEvent } = {}) {
  const listeners = [];
  const toFrame = [];
  const invokes = [];
  const pending = [];
  const frameWindow = {
    postMessage(message, origin) {
      toFrame.push({ message: JSON.parse(JSON.stringify(message)), origin });
    },
  };
  const frame = { attrs: {}, contentWindow: frameWindow, setAttribute(k, v) { this.attrs[k] = v; } };
  class Channel {
    constructor() {
      this.onmessage = () => {};
    }
  }
  let channel = null;
  const sandbox = {
    console: { error() {}, warn() {}, log() {} },
    location: { protocol: "tauri:" },
    document: {
      body: { appendChild(el) { sandbox.mounted = el; } },
      createElement: () => frame,
      addEventListener() {},
    },
    addEventListener(type, fn) {
      if (type === "message") listeners.push(fn);
    },
    __TAURI__: {
      core: {
        Channel,
        invoke(cmd, payload) {
          invokes.push({ cmd, payload: cmd === "phone_event" ? JSON.parse(JSON.stringify(payload)) : payload });
          if (cmd === "phone_attach") {
            channel = payload.commands;
            return attach();
          }
          if (phoneEvent) return phoneEvent(payload);
          // Answered when the test says so: one request in flight is the point.
          return new Promise((resolve) => pending.push(resolve));
        },
      },
    },
  };
  sandbox.window = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(RELAY, "utf8"), sandbox, { filename: RELAY });
  const fromFrame = (data, from = {}) => {
    for (const fn of listeners) fn({ source: from.source || frameWindow, origin: from.origin || WEBPHONE, data });
  };
  return {
    sandbox, frame, toFrame, invokes, fromFrame,
    get channel() { return channel; },
    sent: () => invokes.filter((i) => i.cmd === "phone_event").map((i) => i.payload.events),
    async answerAll() {
      while (pending.length) {
        pending.shift()(null);
        await flush();
      }
    },
  };
}

test("the frame is sandboxed, cross-origin, unreachable, and served from webphone://", () => {
  const p = page();
  assert.equal(p.sandbox.mounted, p.frame);
  assert.equal(p.frame.src, WEBPHONE + "/ringside/host.html");
  assert.equal(p.frame.attrs.sandbox, "allow-scripts allow-same-origin");
  assert.equal(p.frame.attrs.tabindex, "-1");
  assert.equal(p.frame.attrs.inert, "");
  assert.equal(p.frame.attrs["aria-hidden"], "true");
});

test("only the frame's own messages, from its origin, reach the core", async () => {
  const p = page();
  p.fromFrame({ ringside: "events", events: [["call", ["x"]]] }, { source: {} });
  p.fromFrame({ ringside: "events", events: [["call", ["y"]]] }, { origin: "tauri://localhost" });
  p.fromFrame({ ringside: "attach" }, { origin: "https://evil.example" });
  p.fromFrame("garbage");
  p.fromFrame({ ringside: "events", events: [["ok", []], "not an event", [1, []], ["no args"]] });
  await flush();
  assert.deepEqual(p.sent(), [[["ok", []]]]);
  assert.equal(p.invokes.filter((i) => i.cmd === "phone_attach").length, 0);
});

test("one request in flight: what comes meanwhile goes next, in order, 64 at most", async () => {
  const p = page();
  p.fromFrame({ ringside: "events", events: [["call", [0]]] });
  for (let i = 1; i <= 100; i++) p.fromFrame({ ringside: "events", events: [["call", [i]]] });
  await flush();
  assert.equal(p.sent().length, 1, "the next batch waits for the core's answer");
  await p.answerAll();
  const batches = p.sent();
  assert.deepEqual(batches.map((b) => b.length), [1, 64, 36]);
  assert.deepEqual(batches.flat().map((e) => e[1][0]), [...Array(101).keys()]);
});

test("commands go to the frame's origin only; attach and refusals are told to the frame", async () => {
  const p = page({ phoneEvent: () => Promise.reject({ code: "phone_event_invalid", message: "too large" }) });
  p.fromFrame({ ringside: "attach" });
  await flush();
  assert.ok(p.channel, "phone_attach got a channel");
  p.channel.onmessage({ cmd: "configure", params: { password: "s3cret" } });
  p.fromFrame({ ringside: "events", events: [["event", ["x"]]] });
  await flush();
  await flush();
  assert.deepEqual(p.toFrame, [
    { message: { ringside: "attached" }, origin: WEBPHONE },
    { message: { ringside: "command", command: { cmd: "configure", params: { password: "s3cret" } } }, origin: WEBPHONE },
    { message: { ringside: "refused", message: "too large" }, origin: WEBPHONE },
  ]);
  assert.equal(p.sandbox.ringsideRelay.stats.refused_batches, 1);
  const failing = page({ attach: () => Promise.reject({ code: "starting", message: "Ringside is still starting." }) });
  failing.fromFrame({ ringside: "attach" });
  await flush();
  assert.deepEqual(failing.toFrame, [
    { message: { ringside: "attach_failed", message: "Ringside is still starting." }, origin: WEBPHONE },
  ]);
});

test("a flood is cut at the relay, not in the window's memory", async () => {
  const p = page();
  const many = Array.from({ length: 10_000 }, (_, i) => ["event", [i]]);
  p.fromFrame({ ringside: "events", events: many });
  await p.answerAll();
  assert.equal(p.sent().flat().length, 4096);
  assert.equal(p.sandbox.ringsideRelay.stats.answered, 4096);
  assert.equal(p.sandbox.ringsideRelay.stats.dropped, 10_000 - 4096);
});
