// One conformance test per recording of the real library driven through Ringside's bridge
// (tests/fixtures/traces/mizu-3.6-bridge, agent 1002): the frozen recorded bridge + the
// simulator must forward what the real library did. See README.md for the rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compare } from "./compare.mjs";
import { replay, recordingNames } from "./replay.mjs";


const TOLERANCE_MS = 1500;

// Recordings that need the page's policy without 'unsafe-eval'.
const CSP = new Set(["csp_register"]);

const names = recordingNames();

test("every bridge recording has a conformance test and a remote script", () => {
  assert.deepEqual(names, [
    "attended_transfer",
    "blind_transfer",
    "cancel_by_caller",
    "csp_inbound",
    "csp_register",
    "inbound_hold_mute_dtmf",
    "outbound_remote_hangs",
    "reject",
    "two_inbound",
    "two_inbound_second",
  ]);
});

for (const name of names) {
  test(`conforms to the recording ${name}`, async () => {
    const { rec, page, end } = await replay(name, { csp: CSP.has(name) });
    const diffs = compare(rec.events, page.events, { toleranceMs: TOLERANCE_MS, until: end + TOLERANCE_MS });
    assert.deepEqual(diffs, [], `${name}: the simulator differs from the recording:\n  ` + diffs.join("\n  "));
    // The bridge never reported a failure of its own.
    assert.deepEqual(page.sent("bridge_error"), []);
  });
}

test("csp_register: without 'unsafe-eval' the registration stays stuck, loudly, forever", async () => {
  const { page, end } = await replay("csp_register", { csp: true, extraMs: 10 * 60 * 1000 });
  const reg = page.sent("reg");
  assert.deepEqual(reg, [], "no registered, no failed: nothing at all");
  const last = page.events[page.events.length - 1];
  assert.deepEqual([last.kind, last.args[1]], ["event", "STATUS,-1,Registering..."], "nothing after `Registering...`, for ten minutes");
  assert.ok(Math.abs(last.t - end) < 1500, "`Registering...` when the recording has it");
  assert.ok(page.sent("app").some((e) => e.args[0] === "started"));
  const evalErrors = page.console.filter((l) => l.level === "error" && /EvalError/.test(l.text));
  assert.ok(evalErrors.length >= 2, "the console shows the EvalErrors (as csp_register.1002.console.log does)");
  assert.equal(page.api.isregistered(), false);
});

test("csp_inbound: the same page with 'unsafe-eval' registers", async () => {
  const { page } = await replay("csp_inbound", { csp: false });
  assert.deepEqual(page.sent("reg").map((e) => e.args[0]), ["registered"]);
  assert.equal(page.console.filter((l) => /EvalError/.test(l.text)).length, 0);
});

test("attended_transfer: transfer(\"\") fails inside the library, silently for the host", async () => {
  const { page } = await replay("attended_transfer");
  const err = page.console.filter((l) => /catch on plhandler: Transfer ReferenceError: ep is not defined/.test(l.text));
  assert.equal(err.length, 1, "the library's own log line");
  assert.deepEqual(page.transfers(), [], "no REFER was sent");
  assert.equal(page.sent("call").filter((e) => e.args[0] === "transfer").length, 0);
  const log = page.log().filter((e) => e.fn === "setline" || e.fn === "transfer");
  assert.deepEqual(
    log.map((e) => [e.fn, e.args[0]]),
    [
      ["setline", "[a7c16ea9-073a-c2cd-f1ed-8ba96f7a432d]"],
      ["setline", "[a7c16ea9-073a-c2cd-f1ed-8ba96f7a432d]"],
      ["setline", "[a7c16ea9-073a-c2cd-f1ed-8ba96f7a432d]"],
      ["transfer", ""],
    ],
    "what the recorded bridge called"
  );
});

test("inbound_hold_mute_dtmf: the recorded bridge muted both directions (0)", async () => {
  const { page } = await replay("inbound_hold_mute_dtmf");
  const mutes = page.log("mute");
  assert.deepEqual(mutes.map((e) => e.args), [
    [true, 0],
    [false, 0],
  ]);
});
