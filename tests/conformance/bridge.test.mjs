// Today's ui/webphone/bridge.js (the rewrite from `main`, commit dbbb556) with the simulator
// standing in for the real library. Its contract: commands carry BARE call ids; before any
// per-call command it calls setline(bareId) and checks with getline()/getlinedetails(-1) that
// the selected line is that call, and if not it does nothing and sends `command_failed`
// [{cmd, call_id, code: "call_unknown", message}]; mute is mute(on, 2); configure sets
// transfertype "1"; blind transfer is `transfer {call_id, number}`; attended completion is
// `transfer {call_id: original, number: consulted}` then `hangup {call_id: consultation}`;
// every callback it installs catches its own errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPage, SIM, BRIDGE } from "./harness.mjs";

const A = "aaaaaaaa-1111-2222-3333-000000000001";
const B = "bbbbbbbb-1111-2222-3333-000000000002";

async function agent({ csp = false, configure = {} } = {}) {
  const page = await createPage({ csp });
  await page.load(SIM);
  page.sim.configure(configure);
  await page.load(BRIDGE);
  await page.advance(200); // loaded
  page.command({ cmd: "configure", params: { serveraddress: "localhost", username: "1002", password: "x" } });
  page.command({ cmd: "start" });
  await page.advance(3000);
  return page;
}

// A caller rings and the agent answers through the bridge.
async function answered(page, number, id) {
  page.sim.incoming(number, { callId: id });
  await page.advance(500);
  page.command({ cmd: "accept", call_id: id });
  await page.advance(500);
}

const callEvents = (page, name) => page.sent("call").filter((e) => !name || e.args[0] === name);
const failures = (page) => page.sent("command_failed").map((e) => e.args[0]);
const state = (page) => Object.fromEntries(page.calls().map((c) => [c.id, c.state]));

test("configure sets transfertype 1 explicitly, after the core's parameters", async () => {
  const page = await agent();
  const sets = page.log("setparameter").map((e) => e.args);
  assert.deepEqual(sets.filter((a) => a[0] === "transfertype"), [["transfertype", "1"]]);
  assert.deepEqual(page.sent("reg").map((e) => e.args[0]), ["registered"]);
});

test("two inbound calls: accepting the second by bare id connects the second, the first still rings", async () => {
  const page = await agent();
  page.sim.incoming("1001", { callId: A });
  await page.advance(700);
  page.sim.incoming("1003", { callId: B });
  await page.advance(1000);
  page.command({ cmd: "accept", call_id: B });
  await page.advance(500);
  assert.deepEqual(callEvents(page, "connected").map((e) => e.args[5]), ["[" + B + "]"]);
  assert.deepEqual(state(page), { [A]: "ringing", [B]: "connected" });
  assert.deepEqual(failures(page), []);
  assert.deepEqual(page.log("setline").map((e) => e.args[0]), [B], "setline got the bare id");
});

test("a command for an ended call, nothing else up: command_failed, nothing happens", async () => {
  const page = await agent();
  await answered(page, "1001", A);
  page.sim.remoteHangup(A);
  await page.advance(2000);
  const before = page.log().length;
  page.command({ cmd: "hangup", call_id: A });
  await page.advance(500);
  const f = failures(page);
  assert.equal(f.length, 1, JSON.stringify(f));
  assert.deepEqual([f[0].cmd, f[0].call_id], ["hangup", A]);
  // The library has no call on line 1: getlinedetails(-1) is "", so the bridge cannot tell and
  // the library's own refusal (hangup() === false) is what reports it.
  assert.ok(["call_unknown", "refused_by_library"].includes(f[0].code), f[0].code);
  assert.deepEqual(page.sent("call").filter((e) => e.t > page.now - 500), []);
  assert.ok(page.log().length > before);
});

// The ended call's line is now the new caller's: only reading the selected Call-ID tells.
test(
  "a command for an ended call while another call is up: command_failed, and nothing is done to the call that is up",
  async () => {
    const page = await agent();
    await answered(page, "1001", A);
    page.sim.remoteHangup(A);
    await page.advance(2000);
    page.sim.incoming("1003", { callId: B });
    await page.advance(500);
    page.command({ cmd: "hangup", call_id: A });
    await page.advance(500);
    assert.deepEqual(state(page), { [B]: "ringing" }, "the ringing call was not touched");
    const f = failures(page);
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.deepEqual([f[0].cmd, f[0].call_id], ["hangup", A]);
  }
);

// The real library's getlinedetails(-1) names the selected call's Call-ID BARE inside a
// LINEDETAILS string (tests/fixtures/traces/mizu-3.6-bridge/attended_transfer.1002.console.log:
// `LINEDETAILS,2,2,Speaking,1003,1002,1,1003,f1b4c757-...,1003,1002,1,localhost,,false,false,`),
// and the simulator returns that shape. setline() of an unknown id keeps the current line and
// getline() stays > 0, so the bridge must read the Call-ID from that line (its 9th field), or
// the command would go to the call that is up.
test(
  "a command for an unknown call id while another call is up: command_failed call_unknown, the other call untouched",
  async () => {
    const page = await agent();
    await answered(page, "1001", A);
    page.command({ cmd: "hangup", call_id: "cccccccc-0000-0000-0000-00000000dead" });
    await page.advance(1000);
    assert.deepEqual(state(page), { [A]: "connected" }, "the connected call was not hung up");
    const f = failures(page);
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0].code, "call_unknown");
  }
);

test("mute sends direction 2 (the microphone only)", async () => {
  const page = await agent();
  await answered(page, "1001", A);
  page.command({ cmd: "mute", call_id: A, on: true });
  page.command({ cmd: "mute", call_id: A, on: false });
  assert.deepEqual(page.log("mute").map((e) => e.args), [
    [true, 2],
    [false, 2],
  ]);
  await page.advance(0);
  assert.deepEqual(callEvents(page).filter((e) => /muted/.test(e.args[0])).map((e) => e.args[0]), ["muted", "unmuted"]);
});

test("blind transfer ends the agent's leg after the REFER (transfertype 1)", async () => {
  const page = await agent({ configure: { transferAnswerMs: null } });
  await answered(page, "1001", A);
  page.command({ cmd: "transfer", call_id: A, number: "1003" });
  await page.advance(3000);
  assert.deepEqual(page.transfers().map((t) => [t.call_id, t.to, t.type]), [[A, "1003", "1"]]);
  assert.deepEqual(callEvents(page, "disconnected").map((e) => e.args[5]), ["[" + A + "]"], "ended without the target answering");
  assert.deepEqual(failures(page), []);
});

test("attended transfer: hold, consult C, complete as transfer(original, C) + hangup(consultation): the caller goes to C", async () => {
  const page = await agent({ configure: { outbound: "never" } });
  page.sim.incoming("1001", { callId: A });
  await page.advance(500);
  page.command({ cmd: "accept", call_id: A });
  await page.advance(1500);
  page.command({ cmd: "hold", call_id: A, on: true });
  page.command({ cmd: "call", number: "1003" });
  await page.advance(1000);
  page.sim.remoteAnswer("1003");
  await page.advance(2000);
  const consult = callEvents(page, "setup")
    .map((e) => e.args[5].replace(/^\[|\]$/g, ""))
    .find((id) => id !== A);
  assert.ok(consult, "the consultation call was set up");
  page.command({ cmd: "transfer", call_id: A, number: "1003" });
  page.command({ cmd: "hangup", call_id: consult });
  await page.advance(3000);
  assert.deepEqual(page.transfers().map((t) => [t.call_id, t.peer, t.to]), [[A, "1001", "1003"]], "the caller was REFERred to 1003");
  assert.deepEqual(state(page), {}, "both of the agent's legs ended");
  assert.deepEqual(failures(page), []);
  assert.deepEqual(
    page.log().filter((e) => e.fn === "transfer").map((e) => e.args[0]),
    ["1003"],
    "never transfer(\"\")"
  );
});

test("without 'unsafe-eval' the registration stalls: started, Registering..., nothing else", async () => {
  const page = await agent({ csp: true });
  await page.advance(120_000);
  assert.deepEqual(page.sent("app").map((e) => e.args[0]), ["loaded", "started"]);
  assert.deepEqual(page.sent("reg"), []);
  assert.equal(page.sent("event").at(-1).args[1], "STATUS,-1,Registering...");
});

test("a failing transport does not make the library drop the bridge's callbacks", async () => {
  const page = await createPage();
  await page.load(SIM);
  await page.load(BRIDGE);
  const post = page.sandbox.parent.postMessage;
  let broken = true;
  page.sandbox.parent.postMessage = (message, origin) => {
    if (broken && message.ringside === "events") throw new Error("transport down");
    return post(message, origin);
  };
  await page.advance(200); // `loaded`: the send throws inside the bridge's callback
  broken = false;
  page.command({ cmd: "configure", params: { username: "1002" } });
  page.command({ cmd: "start" });
  await page.advance(3000);
  assert.deepEqual(page.sent("app").map((e) => e.args[0]), ["started"], "app callback still installed");
  assert.deepEqual(page.sent("reg").map((e) => e.args[0]), ["registered"]);
  assert.ok(page.sent("event").length > 0, "event callback still installed");
});

test("the bridge talks to the agent's window only, and hears no one else", async () => {
  const page = await createPage();
  await page.load(SIM);
  await page.load(BRIDGE);
  await page.advance(200);
  assert.ok(page.posted.length > 0);
  for (const p of page.posted) assert.equal(p.targetOrigin, "tauri://localhost", JSON.stringify(p));
  // A command from another frame, or from another origin, is not performed.
  page.deliver({ ringside: "command", command: { cmd: "call", number: "0900" } }, { source: {} });
  page.deliver({ ringside: "command", command: { cmd: "call", number: "0901" } }, { origin: "https://evil.example" });
  await page.advance(1000);
  assert.deepEqual(page.log("call"), []);
  page.command({ cmd: "configure", params: { username: "1002" } });
  page.command({ cmd: "start" });
  await page.advance(3000);
  page.command({ cmd: "call", number: "1003" });
  await page.advance(500);
  assert.deepEqual(page.log("call").map((e) => e.args[0]), ["1003"]);
});

test("a callback whose arguments cannot be cloned still reaches the core, as JSON", async () => {
  const page = await createPage();
  await page.load(SIM);
  await page.load(BRIDGE);
  await page.advance(200);
  const before = page.events.length;
  // What the library could hand over: an object with a method.
  page.sandbox.ringsideBridge.transport.send("event", ["x", { text: "hi", fn() {} }]);
  await page.advance(0);
  assert.deepEqual(page.events.slice(before).map((e) => e.args), [["x", { text: "hi" }]]);
});

test("callbacks reported in one task go to the agent's window in one message, in order", async () => {
  const page = await createPage();
  await page.load(SIM);
  await page.load(BRIDGE);
  await page.advance(200);
  const before = page.posted.length;
  const send = page.sandbox.ringsideBridge.transport.send;
  send("call", ["setup"]);
  send("call", ["ringing"]);
  send("cdr", ["x"]);
  await page.advance(0);
  send("call", ["disconnected"]);
  await page.advance(0);
  const messages = page.posted.slice(before).map((p) => p.message.events);
  assert.deepEqual(messages, [
    [["call", ["setup"]], ["call", ["ringing"]], ["cdr", ["x"]]],
    [["call", ["disconnected"]]],
  ]);
});
