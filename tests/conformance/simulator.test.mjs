// The simulator's API, called directly (no bridge): the quirks of the real library that the
// recordings show, plus its control surface. Each test names the recording it follows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPage, plain, SIM } from "./harness.mjs";

// A registered phone with a collector of every callback.
async function phone({ csp = false, configure = {}, params = {} } = {}) {
  const page = await createPage({ csp });
  await page.load(SIM);
  const api = page.api;
  page.sim.configure(configure);
  const got = [];
  for (const [kind, on] of [
    ["app", "onAppStateChange"],
    ["reg", "onRegStateChange"],
    ["call", "onCallStateChange"],
    ["cdr", "onCdr"],
    ["event", "onEvent"],
  ]) {
    api[on]((...args) => got.push({ t: page.now, kind, args: plain(args) }));
  }
  await page.advance(200);
  for (const [k, v] of Object.entries({ username: "1002", serveraddress: "localhost", ...params })) api.setparameter(k, v);
  api.start();
  await page.advance(3000);
  return { page, api, sim: page.sim, got };
}

const calls = (got, name) => got.filter((e) => e.kind === "call" && (!name || e.args[0] === name));
const statusLines = (got) => got.filter((e) => e.kind === "event" && e.args[0] === "event").map((e) => e.args[1]);

test("registers when eval is allowed (csp_inbound)", async () => {
  const { got, api } = await phone();
  assert.deepEqual(got.filter((e) => e.kind === "reg").map((e) => e.args), [["registered", null]]);
  assert.equal(api.isregistered(), true);
});

test("without 'unsafe-eval': started, Registering..., then nothing; EvalError in the console (csp_register)", async () => {
  const { got, page, api } = await phone({ csp: true });
  await page.advance(120_000);
  assert.deepEqual(got.filter((e) => e.kind === "app").map((e) => e.args[0]), ["loaded", "started"]);
  assert.deepEqual(got.filter((e) => e.kind === "reg"), []);
  assert.equal(statusLines(got).at(-1), "STATUS,-1,Registering...");
  assert.ok(page.console.some((l) => l.level === "error" && /^EvalError/.test(l.text)), JSON.stringify(page.console));
  assert.equal(api.isregistered(), false);
  assert.equal(page.sim.incoming("1001"), null, "no INVITE reaches a phone that never registered");
});

test("a refused server: a display event, registration never completes (mizu-webphone-api.md)", async () => {
  const { got, page } = await phone({ configure: { refuseServer: "Server not allowed_8" } });
  await page.advance(60_000);
  const display = got.filter((e) => e.kind === "event" && e.args[0] === "display");
  assert.deepEqual(display.map((e) => e.args[1]), [",ERROR,Server not allowed_8"]);
  assert.deepEqual(got.filter((e) => e.kind === "reg"), []);
});

test("registerNeverCompletes: Registering... forever, no failure", async () => {
  const { got, page } = await phone({ configure: { registerNeverCompletes: true } });
  await page.advance(60_000);
  assert.deepEqual(got.filter((e) => e.kind === "reg"), []);
  assert.equal(statusLines(got).at(-1), "STATUS,-1,Registering...");
  assert.equal(page.console.filter((l) => /EvalError/.test(l.text)).length, 0);
});

test("setline: bare Call-ID or peer selects; bracketed or unknown keeps the current line (two_inbound_second)", async () => {
  const { page, api, sim, got } = await phone();
  const a = sim.incoming("1001", { callId: "aaaaaaaa-0000-0000-0000-000000000001" });
  await page.advance(500);
  const b = sim.incoming("1003", { callId: "bbbbbbbb-0000-0000-0000-000000000002" });
  await page.advance(500);
  // Both inbound calls report line 1 (two_inbound).
  assert.deepEqual(calls(got, "ringing").map((e) => e.args[4]), [1, 1]);
  assert.equal(api.getline(), 1, "the first call keeps the line");
  api.setline("[" + b + "]");
  assert.equal(api.getline(), 1, "bracketed: ignored");
  api.setline("no-such-call");
  assert.equal(api.getline(), 1, "unknown: ignored");
  api.setline(b);
  assert.equal(api.getline(), 2, "bare: selected");
  assert.match(api.getlinedetails(-1), new RegExp("^LINEDETAILS,2,2,Ringing,1003,1002,2,1003," + b + ","));
  api.setline("1001");
  assert.equal(api.getline(), 1, "peer username: selected");
  api.setline(2);
  assert.equal(api.getline(), 2, "line number: selected");
  // The bracketed id again, then accept: the call already selected is answered.
  api.setline(a);
  api.setline("[" + b + "]");
  api.accept();
  await page.advance(100);
  assert.deepEqual(calls(got, "connected").map((e) => e.args[5]), ["[" + a + "]"]);
});

test("getline/getlinedetails with no call: line 1, empty details (attended_transfer console log)", async () => {
  const { api } = await phone();
  assert.equal(api.getline(), 1);
  assert.equal(api.getlinedetails(-1), "");
  assert.equal(api.hangup(), false, "no session to hangup");
});

test("mute honours the direction and ismuted reflects it (inbound_hold_mute_dtmf)", async () => {
  const { page, api, sim, got } = await phone();
  sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(100);
  assert.equal(api.ismuted(), false);
  api.mute(true, 2);
  assert.equal(api.ismuted(), true);
  assert.deepEqual(page.calls()[0].muteDirection, 2);
  assert.deepEqual(calls(got, "muted").map((e) => e.args), [["muted", "", "", "", 1, ""]]);
  assert.ok(statusLines(got).includes("STATUS,1,Muted"));
  api.mute(false, 2);
  assert.equal(api.ismuted(), false);
  api.mute(true, 0);
  assert.equal(page.calls()[0].muteDirection, 0);
  assert.deepEqual(
    page.log("mute").map((e) => e.args),
    [
      [true, 2],
      [false, 2],
      [true, 0],
    ]
  );
});

test("hold on an inbound call: trying with direction 1; ended by the caller: direction 1, caller/called swapped (attended_transfer)", async () => {
  const { page, api, sim, got } = await phone();
  const id = sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(2000);
  api.hold(true);
  await page.advance(500);
  assert.deepEqual(calls(got, "trying").map((e) => e.args.slice(0, 3)), [["trying", 1, "1001"]]);
  assert.equal(api.isonhold(), true);
  sim.remoteHangup(id);
  await page.advance(1000);
  assert.deepEqual(calls(got, "disconnected").map((e) => e.args[1]), [1]);
  const cdr = got.filter((e) => e.kind === "cdr")[0].args;
  assert.deepEqual([cdr[0], cdr[1], cdr[4], cdr[6]], ["1002", "1001", 1, "Call terminated"]);
});

test("held and resumed, hung up here: keeps direction 2 (inbound_hold_mute_dtmf)", async () => {
  const { page, api, sim, got } = await phone();
  sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(100);
  api.hold(true);
  await page.advance(2000);
  api.hold(false);
  await page.advance(2000);
  assert.deepEqual(calls(got, "trying").map((e) => e.args[1]), [1, 1]);
  api.hangup();
  await page.advance(1000);
  assert.deepEqual(calls(got, "disconnected").map((e) => e.args[1]), [2]);
  const cdr = got.filter((e) => e.kind === "cdr")[0].args;
  assert.deepEqual([cdr[0], cdr[1], cdr[4], cdr[6]], ["1001", "1002", 2, "User hangup"]);
});

test("transfer with transfertype unset: 4 transfer events, the leg ends when the target answers (blind_transfer)", async () => {
  const { page, api, sim, got } = await phone({ configure: { transferAnswerMs: null } });
  sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(100);
  api.transfer("1003");
  await page.advance(10_000);
  assert.equal(calls(got, "transfer").length, 3);
  assert.deepEqual(calls(got, "disconnected"), [], "the agent's leg stays up until the target answers");
  sim.transferAnswer("1003");
  await page.advance(1000);
  assert.equal(calls(got, "transfer").length, 4);
  assert.equal(calls(got, "disconnected").length, 1);
  assert.equal(got.filter((e) => e.kind === "cdr")[0].args[6], "Call terminated");
  assert.deepEqual(page.transfers().map((t) => [t.peer, t.to, t.type]), [["1001", "1003", "-1"]]);
});

test("transfer with transfertype 1: the leg ends at once after the REFER (plain/blind_transfer)", async () => {
  const { page, api, sim, got } = await phone({ params: { transfertype: "1" } });
  sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(100);
  api.transfer("1003");
  await page.advance(2000);
  assert.equal(calls(got, "transfer").length, 3);
  assert.equal(calls(got, "disconnected").length, 1);
  assert.ok(statusLines(got).includes("STATUS,-1,Hangup"));
  await page.advance(1000);
  assert.equal(got.filter((e) => e.kind === "cdr")[0].args[6], "User hangup");
});

test('transfer("") logs the library\'s ReferenceError and changes nothing (attended_transfer)', async () => {
  const { page, api, sim, got } = await phone({ configure: { outbound: "never" } });
  const a = sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(100);
  api.hold(true);
  api.call("1003");
  await page.advance(1000);
  sim.remoteAnswer("1003");
  await page.advance(3000);
  const before = page.events.length + got.length;
  let threw = null;
  try {
    api.transfer("");
  } catch (e) {
    threw = e;
  }
  await page.advance(10_000);
  assert.equal(threw, null, "no error reaches the host");
  assert.equal(page.events.length + got.length, before, "no callback at all");
  assert.deepEqual(page.transfers(), []);
  assert.deepEqual(page.calls().map((c) => [c.peer, c.state]), [
    ["1001", "connected"],
    ["1003", "connected"],
  ]);
  assert.ok(page.console.some((l) => /ERROR, catch on plhandler: Transfer ReferenceError: ep is not defined/.test(l.text)));
  // What works: select the original by bare id and REFER it to the consulted number.
  api.setline(a);
  api.transfer("1003");
  assert.deepEqual(page.transfers().map((t) => [t.call_id, t.to]), [[a, "1003"]]);
});

test("a call placed while another is up gets line 2 and holds the other (attended_transfer)", async () => {
  const { page, api, sim, got } = await phone({ configure: { outbound: "never" } });
  sim.incoming("1001");
  await page.advance(100);
  api.accept();
  await page.advance(100);
  api.call("1003");
  assert.equal(api.getline(), 2);
  await page.advance(1000);
  assert.deepEqual(calls(got, "setup").map((e) => [e.args[2], e.args[4]]), [
    ["1001", 1],
    ["1003", 2],
  ]);
  assert.ok(statusLines(got).filter((s) => s === "EVENT,Hold").length === 1);
  assert.equal(page.calls()[0].held, true);
});

test("a callback that throws is dropped silently; the others keep getting events (api_helper.js)", async () => {
  const page = await createPage();
  await page.load(SIM);
  let bad = 0;
  let good = 0;
  page.api.onAppStateChange(() => {
    bad++;
    throw new Error("boom");
  });
  page.api.onAppStateChange(() => good++);
  await page.advance(200); // loaded
  page.api.start();
  await page.advance(3000); // started
  assert.equal(bad, 1, "called once, then removed");
  assert.equal(good, 2);
  assert.equal(page.console.length, 0, "silently");
});

test("outbound: not found, declined, ring timeout (plain/not_found, plain/reject, plain/no_answer)", async () => {
  const { page, api, sim, got } = await phone({ configure: { outbound: "reject", answerDelayMs: 1500 }, params: { ringtimeout: "8000" } });
  api.call("1999");
  await page.advance(2000);
  api.call("1001");
  await page.advance(5000);
  sim.configure({ outbound: "never" });
  api.call("1003");
  await page.advance(10_000);
  const cdrs = got.filter((e) => e.kind === "cdr").map((e) => [e.args[1], e.args[3], e.args[6]]);
  assert.deepEqual(cdrs, [
    ["1999", "0", "Not Found"],
    ["1001", "0", "Decline"],
    ["1003", "0", "User hangup"],
  ]);
  assert.deepEqual(calls(got, "trying").map((e) => e.args[2]), ["1001", "1003"], "no trying for a number that does not exist");
});

test("__sim.log records every API call with its arguments", async () => {
  const { page, api } = await phone();
  api.setline("[x]");
  api.getlinedetails(-1);
  const log = page.log().map((e) => [e.fn, e.args]);
  assert.deepEqual(log.slice(-2), [
    ["setline", ["[x]"]],
    ["getlinedetails", [-1]],
  ]);
  assert.ok(log.some((e) => e[0] === "start"));
});
