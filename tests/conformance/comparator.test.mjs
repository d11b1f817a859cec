// The comparator can fail: fed a deliberately wrong expectation, it says which event differs
// and how. Without this, a comparator that accepts everything would look like conformance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compare } from "./compare.mjs";
import { replay } from "./replay.mjs";

function mutate(events, pick, change) {
  let done = false;
  const out = events.map((e) => {
    if (!done && pick(e)) {
      done = true;
      return change(JSON.parse(JSON.stringify(e)));
    }
    return e;
  });
  assert.ok(done, "the mutation found its event");
  return out;
}

test("the comparator reports a wrong direction, a wrong event name, a wrong STATUS line, a missing CDR, a late event", async () => {
  const { rec, page, end } = await replay("reject");
  const opts = { until: end + 1500 };
  assert.deepEqual(compare(rec.events, page.events, opts), [], "the unchanged recording conforms");

  const wrongDir = mutate(rec.events, (e) => e.kind === "call" && e.args[0] === "ringing", (e) => ((e.args[1] = 1), e));
  const d1 = compare(wrongDir, page.events, opts);
  assert.equal(d1.length, 1, d1.join("\n"));
  assert.match(d1[0], /expected call ringing dir=1 peer=1001 id=\[#1\] \(t=269\), got call ringing dir=2 peer=1001/);

  const wrongName = mutate(rec.events, (e) => e.kind === "call" && e.args[0] === "disconnected", (e) => ((e.args[0] = "callDisconnected"), e));
  assert.match(compare(wrongName, page.events, opts)[0], /expected call callDisconnected .* got call disconnected/);

  const wrongStatus = mutate(rec.events, (e) => e.kind === "event" && e.args[1] === "STATUS,-1,Incoming...", (e) => ((e.args[1] = "STATUS,-1,Incoming call"), e));
  assert.deepEqual(compare(wrongStatus, page.events, opts), [
    'STATUS,-1 line #6: expected "STATUS,-1,Incoming call" (t=272), got "STATUS,-1,Incoming..." (t=268)',
  ]);

  const noCdr = rec.events.filter((e) => e.kind !== "cdr");
  assert.match(compare(noCdr, page.events, opts).join("\n"), /extra cdr caller=1001 called=1002 dir=2 peer=1001 reason=Call Rejected/);

  const wrongReason = mutate(rec.events, (e) => e.kind === "cdr", (e) => ((e.args[6] = "Request Cancelled"), e));
  assert.match(compare(wrongReason, page.events, opts)[0], /expected cdr .*reason=Request Cancelled.* got cdr .*reason=Call Rejected/);

  const late = mutate(rec.events, (e) => e.kind === "call" && e.args[0] === "setup", (e) => ((e.t_ms += 5000), e));
  assert.match(compare(late, page.events, opts).join("\n"), /call setup .* at t=265, the recording has it at t=5266 \(more than 1500 ms apart\)/);
});

test("the comparator reports a CDR time that is far off and a CDR time that is not a string", async () => {
  const { rec, page, end } = await replay("cancel_by_caller");
  const opts = { until: end + 1500 };
  const far = mutate(rec.events, (e) => e.kind === "cdr", (e) => ((e.args[2] = "9999"), e));
  assert.match(compare(far, page.events, opts).join("\n"), /connect time \d+ ms, the recording has 9999 ms/);
  const numeric = page.events.map((e) => (e.kind === "cdr" ? { ...e, args: [e.args[0], e.args[1], Number(e.args[2]), ...e.args.slice(3)] } : e));
  assert.match(compare(rec.events, numeric, opts).join("\n"), /connect time should be a string/);
});
