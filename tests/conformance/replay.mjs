// Replays one recording of tests/fixtures/traces/mizu-3.6-bridge through a bridge and the
// simulator: the core's recorded commands at their times, the other parties' actions from
// `<name>.remote.json`, and returns what the bridge forwarded.
import path from "node:path";
import fs from "node:fs";
import { createPage, readJson, readJsonl, SIM, RECORDED_BRIDGE, TRACES } from "./harness.mjs";

export const BRIDGE_TRACES = path.join(TRACES, "mizu-3.6-bridge");

export function recordingNames() {
  return fs
    .readdirSync(BRIDGE_TRACES)
    .filter((f) => f.endsWith(".1002.commands.json"))
    .map((f) => f.replace(/\.1002\.commands\.json$/, ""))
    .sort();
}

export function loadRecording(name) {
  const dir = BRIDGE_TRACES;
  return {
    name,
    events: readJsonl(path.join(dir, `${name}.1002.jsonl`)),
    commands: readJson(path.join(dir, `${name}.1002.commands.json`)),
    remote: readJson(path.join(dir, `${name}.remote.json`)),
  };
}

const REMOTE = {
  incoming: (sim, a) => sim.incoming(a.number, { callId: a.callId }),
  remoteAnswer: (sim, a) => sim.remoteAnswer(a.call),
  remoteHangup: (sim, a) => sim.remoteHangup(a.call),
  transferAnswer: (sim, a) => sim.transferAnswer(a.number),
};

/**
 * @param {string} name recording name (file prefix)
 * @param {object} [o]
 * @param {boolean} [o.csp] run the page without 'unsafe-eval'
 * @param {string} [o.bridge] the bridge to load (default: the frozen recorded one)
 * @param {number} [o.extraMs] keep the clock running this long after the recording's end
 */
export async function replay(name, { csp = false, bridge = RECORDED_BRIDGE, extraMs = 1500 } = {}) {
  const rec = loadRecording(name);
  const t0 = Math.min(...rec.events.map((e) => e.t_ms), ...rec.commands.map((c) => c.t_ms));
  const end = Math.max(...rec.events.map((e) => e.t_ms));
  const page = await createPage({ csp, t0, eventApi: bridge === RECORDED_BRIDGE });
  await page.load(SIM);
  page.sim.configure(rec.remote.configure || {});
  await page.load(bridge);
  const steps = [
    ...rec.commands.map((c) => ({ t: c.t_ms, run: () => page.command(c.cmd) })),
    ...rec.remote.actions.map((a) => ({
      t: a.t_ms,
      run: () => {
        if (!REMOTE[a.do]) throw new Error(`${name}.remote.json: unknown action ${a.do}`);
        REMOTE[a.do](page.sim, a);
      },
    })),
  ].sort((a, b) => a.t - b.t);
  for (const s of steps) {
    await page.advanceTo(s.t);
    s.run();
  }
  await page.advanceTo(end + extraMs);
  return { rec, page, end };
}
