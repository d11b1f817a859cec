// Compares the callbacks a bridge forwarded with a recording of the real library.
// The rules (and why) are in README.md next to this file. `compare` returns a list of
// human-readable differences; empty means conformant.

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Replaces each distinct Call-ID by #1, #2, ... in order of first appearance in `stream`. */
function idNamer() {
  const names = new Map();
  return (text) =>
    String(text).replace(UUID, (id) => {
      const k = id.toLowerCase();
      if (!names.has(k)) names.set(k, "#" + (names.size + 1));
      return names.get(k);
    });
}

// Kinds never compared: `env` (browser facts), `intent` (what the recorder's agent asked for).
const SKIP = new Set(["env", "intent"]);

function isStatus(e) {
  return e.kind === "event" && e.args[0] === "event";
}

// The per-line channel of a raw event line: STATUS,<line>,... -> "STATUS,<line>"; EVENT,... and
// CDR,... are their own channels.
function channel(text) {
  const parts = String(text).split(",");
  if (parts[0] === "STATUS") return "STATUS," + parts[1];
  return parts[0];
}

function statusKey(text, name) {
  const parts = name(text).split(",");
  // CDR,line,peer,caller,called,NA,connecttime,duration,NA,reason,callid: times vary.
  if (parts[0] === "CDR") {
    parts[6] = "<ms>";
    parts[7] = "<ms>";
  }
  return parts.join(",");
}

function primaryKey(e, name) {
  const a = e.args;
  switch (e.kind) {
    case "app":
    case "reg":
      return `${e.kind} ${a[0]}`;
    case "call":
      // event, direction, peer, call id (the line is not an identity: see README)
      return `call ${a[0]} dir=${a[1]} peer=${a[2]} id=${name(a[5] || "")}`;
    case "cdr":
      return `cdr caller=${a[0]} called=${a[1]} dir=${a[4]} peer=${a[5]} reason=${a[6]} id=${name(a[8] || "")}`;
    case "event":
      return `${a[0]} ${name(a[1])}`;
    default:
      return `${e.kind} ${name(JSON.stringify(a))}`;
  }
}

function fmt(e, t0) {
  return `${e.kind} ${JSON.stringify(e.args)} at t=${e.t_ms ?? e.t}${t0 !== undefined ? "" : ""}`;
}

/**
 * @param {Array<{t_ms:number, kind:string, args:any[]}>} recorded
 * @param {Array<{t:number, kind:string, args:any[]}>} actual
 * @param {object} [o]
 * @param {number} [o.toleranceMs] how far an event's time may be from the recording (1500)
 * @param {number} [o.cdrToleranceMs] how far a CDR's connect/duration times may be (1500)
 * @param {number} [o.until] ignore actual events after this time (the recording's end)
 */
export function compare(recorded, actual, { toleranceMs = 1500, cdrToleranceMs = 1500, until = Infinity } = {}) {
  const diffs = [];
  const exp = recorded.filter((e) => !SKIP.has(e.kind)).map((e) => ({ ...e, t: e.t_ms }));
  const act = actual.filter((e) => !SKIP.has(e.kind) && e.t <= until);
  const nameE = idNamer();
  const nameA = idNamer();
  // Name ids in time order over the whole stream, so that #1 is the same call in both.
  exp.forEach((e) => nameE(JSON.stringify(e.args)));
  act.forEach((e) => nameA(JSON.stringify(e.args)));

  // 1. Everything but STATUS/EVENT/CDR lines: same sequence, same keys, times close.
  const pe = exp.filter((e) => !isStatus(e));
  const pa = act.filter((e) => !isStatus(e));
  const n = Math.max(pe.length, pa.length);
  for (let i = 0; i < n; i++) {
    const e = pe[i];
    const a = pa[i];
    if (!a) {
      diffs.push(`callback #${i + 1}: missing; the recording has ${primaryKey(e, nameE)} at t=${e.t}`);
      break;
    }
    if (!e) {
      diffs.push(`callback #${i + 1}: extra ${primaryKey(a, nameA)} at t=${a.t}; the recording has nothing more`);
      break;
    }
    const ke = primaryKey(e, nameE);
    const ka = primaryKey(a, nameA);
    if (ke !== ka) {
      diffs.push(`callback #${i + 1}: expected ${ke} (t=${e.t}), got ${ka} (t=${a.t})`);
      break; // everything after a divergence would differ too
    }
    if (Math.abs(e.t - a.t) > toleranceMs) {
      diffs.push(`callback #${i + 1} ${ke}: at t=${a.t}, the recording has it at t=${e.t} (more than ${toleranceMs} ms apart)`);
    }
    if (e.kind === "cdr") {
      for (const [idx, what] of [
        [2, "connect time"],
        [3, "duration"],
      ]) {
        if (typeof a.args[idx] !== "string") diffs.push(`callback #${i + 1} ${ke}: ${what} should be a string, got ${JSON.stringify(a.args[idx])}`);
        else if (Math.abs(Number(e.args[idx]) - Number(a.args[idx])) > cdrToleranceMs) {
          diffs.push(`callback #${i + 1} ${ke}: ${what} ${a.args[idx]} ms, the recording has ${e.args[idx]} ms`);
        }
      }
    }
  }

  // 2. Raw event lines, per channel (STATUS,-1 / STATUS,1 / STATUS,2 / EVENT / CDR): the same
  //    lines in the same order (call ids named, CDR times masked), times close.
  const se = exp.filter(isStatus);
  const sa = act.filter(isStatus);
  const channels = [...new Set([...se, ...sa].map((e) => channel(e.args[1])))];
  for (const ch of channels) {
    const ce = se.filter((e) => channel(e.args[1]) === ch);
    const ca = sa.filter((e) => channel(e.args[1]) === ch);
    const m = Math.max(ce.length, ca.length);
    for (let i = 0; i < m; i++) {
      const e = ce[i];
      const a = ca[i];
      if (!a) {
        diffs.push(`${ch} line #${i + 1}: missing; the recording has "${statusKey(e.args[1], nameE)}" at t=${e.t}`);
        break;
      }
      if (!e) {
        diffs.push(`${ch} line #${i + 1}: extra "${statusKey(a.args[1], nameA)}" at t=${a.t}; the recording has nothing more`);
        break;
      }
      const ke = statusKey(e.args[1], nameE);
      const ka = statusKey(a.args[1], nameA);
      if (ke !== ka) {
        diffs.push(`${ch} line #${i + 1}: expected "${ke}" (t=${e.t}), got "${ka}" (t=${a.t})`);
        break;
      }
      if (Math.abs(e.t - a.t) > toleranceMs) {
        diffs.push(`${ch} line #${i + 1} "${ke}": at t=${a.t}, the recording has it at t=${e.t}`);
      }
    }
  }
  return diffs;
}

export { fmt };
