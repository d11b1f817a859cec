// A page for the webphone library (or Ringside's simulator of it) and a bridge, without a
// browser: a `vm` context with a minimal window/navigator/console, a virtual clock, a fake
// Tauri transport, and optionally the policy of a page without 'unsafe-eval'.
//
//   const page = await createPage({ csp: false });
//   await page.load(SIM); await page.load(BRIDGE);
//   page.command({ cmd: "start" }); await page.advance(2000);
//   page.events  // [{t, kind, args}] every phone_event the bridge sent
//
// Time is virtual: nothing runs until `advance`/`advanceTo`, which fire the due timers in
// order and let promises settle after each one.
import vm from "node:vm";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");
export const SIM = path.join(ROOT, "ui/webphone-sim/webphone_api.js");
export const BRIDGE = path.join(ROOT, "ui/webphone/bridge.js");
export const RECORDED_BRIDGE = path.join(ROOT, "tests/fixtures/traces/mizu-3.6-bridge/bridge-recorded.js");
export const TRACES = path.join(ROOT, "tests/fixtures/traces");

const flush = () => new Promise((r) => setImmediate(r));

function show(a) {
  if (a instanceof Error || (a && typeof a === "object" && typeof a.name === "string" && typeof a.message === "string")) {
    return a.name + ": " + a.message;
  }
  if (typeof a === "string") return a;
  try {
    return JSON.stringify(a);
  } catch (e) {
    return String(a);
  }
}

/**
 * @param {object} o
 * @param {boolean} [o.csp] the webphone page's policy without 'unsafe-eval': `eval` and
 *   `new Function` throw EvalError (V8's own check, as in Chromium); a string passed to
 *   `setTimeout`/`setInterval` is refused with a console error and never runs (what browsers
 *   do: no exception reaches the caller).
 * @param {number} [o.t0] the virtual clock's start, in ms.
 */
export async function createPage({ csp = false, t0 = 0, eventApi = false } = {}) {
  const clock = { now: t0 };
  const timers = new Map(); // id -> {due, seq, fn, args, every}
  let seq = 0;
  const events = [];
  const consoleLines = [];
  let commandListener = null;

  const con = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    con[level] = (...a) => consoleLines.push({ t: clock.now, level, text: a.map(show).join(" ") });
  }

  const sandbox = {};
  sandbox.window = sandbox;
  sandbox.self = sandbox;
  sandbox.console = con;
  sandbox.navigator = { userAgent: "ringside-conformance (node vm)", mediaDevices: { getUserMedia() {} } };
  sandbox.RTCPeerConnection = function RTCPeerConnection() {};
  sandbox.__clockNow = () => clock.now;

  function schedule(fn, ms, args, every) {
    if (typeof fn === "string") {
      if (csp) {
        con.error(
          "EvalError: Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source of script (setTimeout with a string)"
        );
        return 0;
      }
      const src = fn;
      fn = () => vm.runInContext(src, sandbox);
    }
    const id = ++seq;
    const delay = Math.max(0, Number(ms) || 0);
    timers.set(id, { due: clock.now + delay, seq: id, fn, args, every: every ? Math.max(1, delay) : 0 });
    return id;
  }
  sandbox.setTimeout = (fn, ms, ...args) => schedule(fn, ms, args, false);
  sandbox.setInterval = (fn, ms, ...args) => schedule(fn, ms, args, true);
  sandbox.clearTimeout = (id) => timers.delete(id);
  sandbox.clearInterval = (id) => timers.delete(id);

  // The agent's window, as the bridge sees it from its iframe (ui/static/relay.js): messages
  // to it must name its origin; its answers come from it and its origin, cloned as
  // postMessage clones them. `page.posted` keeps every message the page posted.
  const HOST_ORIGIN = "tauri://localhost";
  const listeners = [];
  const posted = [];
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  function deliver(data, from = {}) {
    const event = { source: from.source || host, origin: from.origin || HOST_ORIGIN, data: clone(data) };
    for (const fn of listeners) fn(event);
  }
  const host = {
    postMessage(message, targetOrigin) {
      if (typeof structuredClone === "function") structuredClone(message); // throws as the browser does
      posted.push({ message: clone(message), targetOrigin });
      if (targetOrigin !== HOST_ORIGIN) return; // the browser drops it
      if (message && message.ringside === "events") {
        for (const [kind, args] of message.events) events.push({ t: clock.now, kind, args: clone(args) });
      } else if (message && message.ringside === "attach") {
        commandListener = (cmd) => deliver({ ringside: "command", command: cmd });
        Promise.resolve().then(() => deliver({ ringside: "attached" }));
      }
    },
  };
  sandbox.parent = host;
  sandbox.location = { protocol: "webphone:" };
  sandbox.addEventListener = (type, fn) => {
    if (type === "message") listeners.push(fn);
  };

  // As Tauri's, for the frozen bridge that made the recordings only: it called the core
  // itself, from a window of its own.
  class Channel {
    constructor() {
      this.onmessage = () => {};
    }
  }
  sandbox.__TAURI__ = {
    core: {
      Channel,
      invoke(cmd, payload) {
        if (cmd === "phone_event") {
          events.push({ t: clock.now, kind: payload.kind, args: JSON.parse(JSON.stringify(payload.args)) });
        }
        if (cmd === "phone_attach") {
          if (!(payload.commands instanceof Channel)) {
            return Promise.reject({ code: "ipc", message: "phone_attach needs a Channel" });
          }
          commandListener = (cmd) => payload.commands.onmessage(cmd);
        }
        return Promise.resolve(null);
      },
    },
  };
  // Only for the frozen bridge that made the recordings, which heard commands as app events.
  if (eventApi) {
    sandbox.__TAURI__.event = {
      listen(name, cb) {
        if (name === "ringside://phone-command") commandListener = (cmd) => cb({ payload: cmd });
        return Promise.resolve(() => {});
      },
    };
  }

  vm.createContext(sandbox, { codeGeneration: { strings: !csp, wasm: true } });
  vm.runInContext("Date.now = function () { return __clockNow(); };", sandbox);

  async function runDue(until) {
    for (;;) {
      let next = null;
      for (const t of timers.values()) {
        if (t.due <= until && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      clock.now = Math.max(clock.now, next.due);
      if (next.every) {
        next.due += next.every;
      } else {
        timers.delete(next.seq);
      }
      try {
        next.fn(...(next.args || []));
      } catch (e) {
        // An exception in a timer is reported by the browser, not thrown at anyone.
        con.error("Uncaught " + show(e));
      }
      await flush();
    }
    clock.now = Math.max(clock.now, until);
    await flush();
  }

  const page = {
    sandbox,
    events,
    posted,
    /** A message to the page as if from `from.source`/`from.origin` (the host by default). */
    deliver,
    console: consoleLines,
    get now() {
      return clock.now;
    },
    async load(file) {
      vm.runInContext(fs.readFileSync(file, "utf8"), sandbox, { filename: file });
      await flush();
    },
    get api() {
      return sandbox.webphone_api;
    },
    get sim() {
      return sandbox.webphone_api && sandbox.webphone_api.__sim;
    },
    /** The simulator's API call log (`__sim.log()`), as plain values. */
    log(fn) {
      return plain(sandbox.webphone_api.__sim.log()).filter((e) => !fn || e.fn === fn);
    },
    calls() {
      return plain(sandbox.webphone_api.__sim.calls());
    },
    transfers() {
      return plain(sandbox.webphone_api.__sim.transfers());
    },
    /** Sends a command as the core does (over the channel the bridge attached). */
    command(cmd) {
      if (!commandListener) throw new Error("the bridge has not attached its command channel");
      commandListener(JSON.parse(JSON.stringify(cmd)));
    },
    async advance(ms) {
      await runDue(clock.now + ms);
    },
    async advanceTo(t) {
      await runDue(Math.max(clock.now, t));
    },
    /** Events the bridge sent since index `from`, optionally of one kind. */
    sent(kind, from = 0) {
      return events.slice(from).filter((e) => !kind || e.kind === kind);
    },
  };
  return page;
}

/** A copy of a value from the page's realm as plain node values (deepEqual compares prototypes). */
export function plain(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

export function readJsonl(file) {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}
