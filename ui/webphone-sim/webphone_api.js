// Ringside's simulator of the Mizu WebPhone 3.6 public JavaScript API.
//
// The vendor library is licensed per customer and never shipped; demo mode and the tests use
// this instead. It behaves like the recordings of the real library (build 3544) in
// tests/fixtures/traces/, quirks and failures included, because a simulator that behaves like
// the vendor's manual let every test pass while the real library failed. Recordings cited
// below: `bridge/<name>` = traces/mizu-3.6-bridge/<name>.1002.* (the real library driven through
// Ringside's bridge), `plain/<name>` = traces/mizu-3.6/<name>.*.jsonl.
//
// Quirks reproduced (each one is asserted by tests/conformance/):
// - The SIP timers evaluate strings (`new Function`): under a Content-Security-Policy without
//   'unsafe-eval' `start()` reports `started` and `STATUS,-1,Registering...`, then nothing,
//   forever: no `registered`, no `failed`; each timer logs an EvalError to the console
//   (bridge/csp_register .jsonl and .console.log). With eval allowed it registers (bridge/csp_inbound).
// - `setline(x)` matches a line number, a BARE Call-ID or a peer username only; a bracketed id
//   or anything unknown silently keeps the current line, so `accept()` then answers the call
//   already selected (bridge/two_inbound_second: asked for the second caller, answered the first;
//   the setline/getline probe in bridge/attended_transfer.1002.console.log). A new inbound call
//   does not take the current line from a call already up. Inbound calls report line 1 in call
//   events and STATUS lines even when two are up (bridge/two_inbound); an outbound call placed
//   while another is up reports its own line (line 2 in bridge/attended_transfer).
// - `getline()` returns the current line, 1 when no call is up ("change aline from 2 to 1" in
//   bridge/attended_transfer.1002.console.log). `getlinedetails(line)` returns the string the
//   library logged for it there: `LINEDETAILS,2,2,Speaking,1003,1002,1,1003,<BARE callid>,1003,
//   1002,1,localhost,,false,false,` (one sample only; the meaning of the last fields is a guess:
//   muted, held); "" when that line has no call.
// - Call events use the new names only (`setup`, `ringing`, `connected`, `disconnected`,
//   `trying`, ...) with the id bracketed; CDRs carry the bare id, times as strings, and arrive
//   ~0.5 s after `disconnected`, preceded by a raw `CDR,line,peer,caller,called,NA,connect,
//   duration,NA,reason,callid` event line; `STATUS,-1,Registered.` follows ~1 s after each CDR
//   (every recording).
// - Inbound: `setup`/`ringing` + `Incoming...`; `accept()` gives `EVENT,Accepted`, `connected`,
//   `STATUS,1,InCall,...`, and ~1.1 s later `In Call` / `Speaking` (bridge/csp_inbound).
//   Outbound: `Starting call to`, `Call`, `Call in progress...`, `Call Initiated`, `Calling...`,
//   `setup`, `trying`, `ringing`, `Early media started`, `connected` (bridge/outbound_remote_hangs);
//   an unknown number gets `setup` then `disconnected` "Not Found" without `trying` (plain/not_found).
// - Reasons: local hang-up "User hangup" (with `STATUS,-1,Hangup` first); local reject
//   "Call Rejected" with `EVENT,Rejected` (bridge/reject); the caller gives up "Request Cancelled"
//   (bridge/cancel_by_caller); the remote party hangs up "Call terminated"
//   (bridge/outbound_remote_hangs); the callee declines "Decline" (plain/reject.1001); ring
//   timeout "User hangup" (plain/no_answer.1001).
// - `hold(on)`: `EVENT,Hold` / `EVENT,Reload`, then a `trying` call event with DIRECTION 1 even
//   on an inbound call, on the library's active line (bridge/inbound_hold_mute_dtmf; line 2 in
//   bridge/attended_transfer). An inbound call that was held by this phone and is then hung up
//   by the remote party ends with `disconnected` direction 1 and a CDR with caller and called
//   swapped (bridge/attended_transfer, call a7c16ea9); hung up locally it keeps direction 2
//   (bridge/inbound_hold_mute_dtmf). Placing a call while another is up sends `EVENT,Hold`
//   for the other line (bridge/attended_transfer).
// - `mute(on, direction)`: 0 both, 1 incoming (speaker), 2 outgoing (microphone); recorded,
//   reflected by `ismuted()`; reported as `STATUS,1,Muted` and a `muted`/`unmuted` call event
//   with empty peer and id (bridge/inbound_hold_mute_dtmf).
// - `transfer(number)`: `transfertype` unset/-1 (= 7): `EVENT,transfer initiated successfully`,
//   4 `transfer` call events (empty arguments, line -1); the agent's leg stays up until the
//   target answers, then ends with "Call terminated" and no `Hangup` (bridge/blind_transfer).
//   `transfertype` "1": 3 `transfer` events and the leg ends ~1.1 s after the REFER with
//   `STATUS,-1,Hangup` and "User hangup" (plain/blind_transfer.1002).
//   `transfer("")` (complete an attended transfer) fails inside the library: it logs
//   `ERROR, catch on plhandler: Transfer ReferenceError: ep is not defined` to the console,
//   sends nothing, reports nothing to the host, and every call stays as it was
//   (bridge/attended_transfer.1002.console.log). What works: consult with `call(C)` while the
//   original is held, then `setline(original bare id)` + `transfer(C)`.
// - A refused server is reported only as a `display` event `,ERROR,Server not allowed_8 ...`
//   and the registration never completes (shared/reference/mizu-webphone-api.md; no recording
//   shows it, so the text after the code is not known).
// - A callback that throws is silently removed (the library's api_helper.js).
//
// `webphone_api.__sim` is the simulator's own control surface (not part of the vendor API):
// incoming(number, opts{callId, cancelAfterMs}), remoteAnswer(id), remoteHangup(id),
// transferAnswer(number?), configure(opts), calls(), transfers(), log().
(function () {
  "use strict";

  var listeners = { app: [], reg: [], call: [], cdr: [], event: [], dtmf: [] };
  var params = {};
  var calls = []; // live and recently ended calls, see newCall()
  var aline = 1; // the library's current ("active") line; back to 1 when nothing is up
  var started = false;
  var registered = false;
  var apiLog = []; // what the host asked of the library, newest API_LOG_MAX calls
  var API_LOG_MAX = 2000;
  var transfers = []; // REFERs sent: {call_id, peer, to, type, at}
  var pendingTransfers = []; // transfertype 7: legs waiting for the target to answer
  var simConfig = {
    loadDelayMs: 100, // `loaded` after the script (recordings: 12-740 ms after the page)
    startDelayMs: 1200, // `started` after start() (recordings: 1.2 s)
    registerDelayMs: 240, // `Registering...` after `started` (recordings: 100-460 ms)
    answerDelayMs: 2000, // outbound: remote answers after ringing this long
    outbound: "auto", // auto | never | reject | busy
    notFound: ["1999"],
    cdrDelayMs: 505,
    incomingCancelMs: 60000, // inbound: the caller gives up after this
    transferAnswerMs: 2000, // transfertype 7: the target answers after this; null = transferAnswer()
    refuseServer: null, // e.g. "Server not allowed_8": display event, registration never completes
    registerNeverCompletes: false, // `Registering...` and then nothing (no eval failure needed)
  };

  // --- plumbing -----------------------------------------------------------------------------

  // api_helper.js: a listener that throws is dropped for good, silently.
  function fire(kind, args) {
    listeners[kind].slice().forEach(function (fn) {
      try {
        fn.apply(null, args);
      } catch (e) {
        listeners[kind] = listeners[kind].filter(function (f) { return f !== fn; });
      }
    });
  }

  function later(ms, fn) {
    return setTimeout(fn, ms);
  }

  function stamp() {
    var d = new Date(Date.now());
    function p(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
    return p(d.getUTCHours(), 2) + ":" + p(d.getUTCMinutes(), 2) + ":" + p(d.getUTCSeconds(), 2) + "." + p(d.getUTCMilliseconds(), 3);
  }

  function consoleLog(text) {
    if (typeof console !== "undefined") console.log("webphone: [" + stamp() + "] " + text + " ");
  }

  // The library's SIP stack (js/lib/wen.js) runs its transaction and dialog timers from
  // strings. Under a policy without 'unsafe-eval' building one throws EvalError; the FSM
  // catches it, logs it, and the transaction never completes (bridge/csp_register).
  var sipTimers = {};
  var sipTimerSeq = 0;
  function sipTimer(ms, fn) {
    var n = ++sipTimerSeq;
    var body;
    try {
      body = new Function("window.webphone_api.__sim._sipTimer(" + n + ");");
    } catch (e) {
      if (typeof console !== "undefined") {
        console.error(e, "{from: webphone SIP timer (the library evaluates strings; its page must allow 'unsafe-eval')}");
      }
      return null;
    }
    sipTimers[n] = fn;
    return setTimeout(body, ms);
  }

  function status(text) {
    fire("event", ["event", "STATUS," + text, null]);
  }

  function rawEvent(text) {
    fire("event", ["event", text, null]);
  }

  function user() {
    return params.username || params.sipusername || "1002";
  }

  // --- calls --------------------------------------------------------------------------------

  function uuid() {
    function h(n) {
      var s = "";
      for (var i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
      return s;
    }
    return h(8) + "-" + h(4) + "-" + h(4) + "-" + h(4) + "-" + h(12);
  }

  function live() {
    return calls.filter(function (c) { return c.state !== "ended"; });
  }

  function freeLine() {
    for (var n = 1; ; n++) {
      if (!live().some(function (c) { return c.line === n; })) return n;
    }
  }

  function newCall(dir, peer, id) {
    var line = freeLine();
    return {
      id: id || uuid(),
      dir: dir, // 1 outgoing, 2 incoming, as it started
      peer: String(peer),
      line: line, // the library's own line for it (what setline/getline use)
      shownLine: dir === 2 ? 1 : line, // what events report: inbound calls all say line 1
      state: "setup", // setup | ringing | connected | ended
      setupAt: Date.now(),
      connectAt: null,
      held: false,
      heldByUs: false,
      mute: null, // the mute direction while muted
      timers: [],
    };
  }

  // The call on the current line, if any.
  function cur() {
    return onLine(aline);
  }

  function setCurrent(call) {
    if (call) aline = call.line;
  }

  function callEvent(call, name, dir, line) {
    var behaviour = String(params.apibehaviour === undefined ? "1" : params.apibehaviour);
    var oldNames = { setup: "callSetup", ringing: "callRinging", connected: "callConnected", disconnected: "callDisconnected" };
    var args = [dir || call.dir, call.peer, call.peer, line || call.shownLine, "[" + call.id + "]"];
    // The recordings (apibehaviour unset) show the new names only; "-1" set explicitly gives both (manual p.71).
    if (behaviour !== "0") fire("call", [name].concat(args));
    if ((behaviour === "0" || behaviour === "-1") && oldNames[name]) fire("call", [oldNames[name]].concat(args));
  }

  function head(call, text, dir) {
    return call.shownLine + "," + text + "," + call.peer + "," + user() + "," + (dir || call.dir) + "," + call.peer;
  }
  // Three shapes of per-line STATUS lines, exactly as recorded.
  function statusLong(call, text, dir) { status(head(call, text, dir) + ",[" + call.id + "],,,,,"); }
  function statusMid(call, text, dir) { status(head(call, text, dir) + ",[" + call.id + "]"); }
  function statusShort(call, text) { status(head(call, text)); }

  function clearTimers(call) {
    (call.timers || []).forEach(clearTimeout);
    call.timers = [];
  }

  function afterCdr() {
    // Every recording: the global status goes back to `Registered.` ~1 s after a CDR.
    later(1000, function () {
      if (registered) status("-1,Registered.");
    });
  }

  // how: "local" (this phone hung up: `Hangup` first), "reject", "remote", "silent".
  function end(call, reason, how) {
    if (call.state === "ended" || call.state === "ending") return;
    clearTimers(call);
    var wasRinging = call.state !== "connected";
    call.state = "ending";
    var delay = 0;
    if (how === "local") {
      status("-1,Hangup");
      delay = 20;
    } else if (how === "reject") {
      status("-1,Hangup");
      rawEvent("EVENT,Rejected");
      delay = 10;
    }
    var finish = function () {
      call.state = "ended";
      pendingTransfers = pendingTransfers.filter(function (p) { return p.call !== call; });
      var now = Date.now();
      var connectTime = (call.connectAt || now) - call.setupAt;
      var duration = call.connectAt ? now - call.connectAt : 0;
      // An inbound call this phone put on hold, hung up by the other side, ends as if it
      // were outgoing (bridge/attended_transfer); hung up here it keeps its direction
      // (bridge/inbound_hold_mute_dtmf).
      var dir = call.dir === 2 && call.heldByUs && how === "remote" && !wasRinging ? 1 : call.dir;
      statusLong(call, "CallDisconnect", dir);
      callEvent(call, "disconnected", dir);
      status("-1,Call Finished");
      status(call.shownLine + ",Finished");
      // The active line stays where it is while other calls are up and goes back to 1 when
      // none is ("change aline from 2 to 1" only after the last call, bridge/attended_transfer).
      if (!live().length) aline = 1;
      later(simConfig.cdrDelayMs, function () {
        var caller = dir === 1 ? user() : call.peer;
        var called = dir === 1 ? call.peer : user();
        rawEvent("CDR," + call.shownLine + "," + call.peer + "," + caller + "," + called + ",NA," + connectTime + "," + duration + ",NA," + reason + "," + call.id);
        fire("cdr", [caller, called, String(connectTime), String(duration), dir, call.peer, reason, call.shownLine, call.id]);
        calls = calls.filter(function (c) { return c !== call; });
        afterCdr();
      });
    };
    if (delay) later(delay, finish);
    else finish();
  }

  function inCallLater(call) {
    call.timers.push(later(1100, function () {
      status("-1,In Call");
      statusShort(call, "Speaking");
    }));
  }

  function connect(call) {
    if (call.state !== "ringing") return false;
    clearTimers(call);
    call.state = "connected";
    if (call.dir === 2) {
      rawEvent("EVENT,Accepted");
      later(10, function () {
        if (call.state !== "connected") return;
        call.connectAt = Date.now();
        statusLong(call, "CallConnect");
        callEvent(call, "connected");
        status("-1,Speaking");
        statusShort(call, "InCall");
        inCallLater(call);
      });
    } else {
      call.connectAt = Date.now();
      status("-1,Early media started");
      statusLong(call, "CallConnect");
      callEvent(call, "connected");
      status("-1,Speaking");
      inCallLater(call);
    }
    return true;
  }

  // The simulator's own lookup (control surface): bare or bracketed id, or a peer number.
  function simFind(x) {
    var l = live();
    if (x === undefined || x === null || x === "" || x === -1 || x === "-1") return cur() || l[l.length - 1] || null;
    var id = String(x).replace(/^\[/, "").replace(/\]$/, "");
    for (var i = 0; i < l.length; i++) if (l[i].id === id) return l[i];
    for (var j = 0; j < l.length; j++) if (l[j].peer === id) return l[j];
    return null;
  }

  function onLine(n) {
    var l = live();
    for (var i = 0; i < l.length; i++) if (l[i].line === n) return l[i];
    return null;
  }

  function holdCall(call, on) {
    rawEvent(on ? "EVENT,Hold" : "EVENT,Reload");
    if (call.held === !!on) return; // nothing to re-INVITE (second EVENT,Hold in bridge/attended_transfer)
    call.held = !!on;
    if (call.dir === 2) call.heldByUs = true;
    // The re-INVITE's progress: `trying`, direction 1, on the active line.
    call.timers.push(sipTimer(40, function () {
      if (call.state !== "connected") return;
      statusMid(call, "InProgress", 1);
      callEvent(call, "trying", 1, aline);
    }));
  }

  function blindSteps(call) {
    // bridge/blind_transfer and plain/blind_transfer.1002: the REFER's progress.
    rawEvent("EVENT,transfer initiated successfully");
    later(2, function () {
      status("-1,Transfer");
      fire("call", ["transfer", "", "", "", -1, ""]);
      status(call.shownLine + ",Call transfer in progress..._");
    });
    later(32, function () { status(call.shownLine + ",Call transfer accepted"); });
    [215, 355].forEach(function (ms) {
      later(ms, function () {
        rawEvent("EVENT,transfer initiated");
        status("-1,Transfer");
        fire("call", ["transfer", "", "", "", -1, ""]);
      });
    });
  }

  function targetAnswered(p) {
    pendingTransfers = pendingTransfers.filter(function (q) { return q !== p; });
    if (p.call.state !== "connected") return;
    rawEvent("EVENT,transfer initiated");
    status("-1,Transfer");
    fire("call", ["transfer", "", "", "", -1, ""]);
    later(4, function () { end(p.call, "Call terminated", "remote"); });
  }

  // --- the public API -----------------------------------------------------------------------

  var api = {
    parameters: params,
    onAppStateChange: function (fn) { listeners.app.push(fn); },
    onLoaded: function (fn) { listeners.app.push(function (s) { if (s === "loaded") fn(); }); },
    onStart: function (fn) { listeners.app.push(function (s) { if (s === "started") fn(); }); },
    onRegStateChange: function (fn) { listeners.reg.push(fn); },
    onCallStateChange: function (fn) { listeners.call.push(fn); },
    onCdr: function (fn) { listeners.cdr.push(fn); },
    onEvent: function (fn) { listeners.event.push(fn); },
    onDTMF: function (fn) { listeners.dtmf.push(fn); },
    onChat: function () {},
    onPresenceStateChange: function () {},
    onBLFStateChange: function () {},

    setparameter: function (name, value) {
      if (value === "NULL") delete params[name];
      else params[name] = String(value);
      return true;
    },
    getparameter: function (name) { return params[name] || ""; },

    start: function () {
      if (started) return true;
      started = true;
      later(simConfig.startDelayMs, function () {
        fire("app", ["started"]);
        status("-1,Starting VoIP engine (rtc)");
        if (simConfig.refuseServer) {
          later(100, function () {
            fire("event", ["display", ",ERROR," + simConfig.refuseServer]);
          });
          return;
        }
        // The transport's first SIP timer: under CSP this is the first EvalError, logged
        // before `Registering...` (bridge/csp_register.1002.console.log).
        sipTimer(50, function () {});
        later(simConfig.registerDelayMs, function () {
          status("-1,Registering...");
          if (simConfig.registerNeverCompletes) return;
          sipTimer(9, function () {
            registered = true;
            status("-1,Registered.");
            fire("reg", ["registered", null]);
          });
        });
      });
      return true;
    },
    stop: function () {
      live().forEach(function (c) { end(c, "User hangup", "local"); });
      started = false;
      registered = false;
      fire("app", ["stopped"]);
      fire("reg", ["unregistered", null]);
      return true;
    },
    register: function () {
      if (!started) return false;
      registered = true;
      fire("reg", ["registered", null]);
      return true;
    },
    unregister: function () { registered = false; fire("reg", ["unregistered", null]); return true; },

    call: function (number) {
      number = String(number === undefined || number === null ? "" : number).split(",")[0];
      if (!number) return false;
      var others = live();
      var call = newCall(1, number);
      calls.push(call);
      setCurrent(call);
      status("-1,Starting call to " + number);
      later(14, function () { status("-1,Call"); });
      later(20, function () { status(call.line + ",Call in progress..."); });
      var up = others.filter(function (c) { return c.state === "connected"; });
      if (up.length) {
        // The library puts the other line on hold when a new call starts (bridge/attended_transfer).
        later(88, function () { up.forEach(function (c) { if (c.state === "connected") holdCall(c, true); }); });
      }
      later(190, function () { status("-1,Call Initiated"); });
      later(192, function () { status("-1,Calling..."); });
      later(194, function () {
        if (call.state === "ended" || call.state === "ending") return;
        call.setupAt = Date.now();
        statusLong(call, "CallSetup");
        callEvent(call, "setup");
        if (simConfig.notFound.indexOf(number) >= 0) {
          call.timers.push(later(8, function () { end(call, "Not Found", "remote"); }));
          return;
        }
        statusMid(call, "InProgress");
        callEvent(call, "trying");
        // Ring timeout, counted from the setup (plain/no_answer.1001: 8 s -> `Hangup` at 8.2 s).
        var ringTimeout = parseInt(params.ringtimeout || "90000", 10);
        call.timers.push(later(ringTimeout, function () {
          if (call.state !== "connected") end(call, "User hangup", "local");
        }));
        call.timers.push(later(150, function () {
          call.state = "ringing";
          status("-1,Ringing...");
          statusMid(call, "Ringing");
          callEvent(call, "ringing");
          if (simConfig.outbound === "auto") {
            call.timers.push(later(simConfig.answerDelayMs, function () { connect(call); }));
          } else if (simConfig.outbound === "reject") {
            call.timers.push(later(simConfig.answerDelayMs, function () { end(call, "Decline", "remote"); }));
          } else if (simConfig.outbound === "busy") {
            // Not recorded: the SIP text of a 486.
            call.timers.push(later(simConfig.answerDelayMs, function () { end(call, "Busy Here", "remote"); }));
          }
        }));
      });
      return true;
    },
    accept: function () {
      var call = cur();
      if (!call || call.dir !== 2 || call.state !== "ringing") return false;
      return connect(call);
    },
    reject: function () {
      var call = cur();
      if (!call || call.state === "connected" || call.state === "ended" || call.state === "ending") return false;
      if (call.dir === 2) end(call, "Call Rejected", "reject");
      else end(call, "User hangup", "local");
      return true;
    },
    ignore: function () { return api.reject(); },
    hangup: function () {
      var call = cur();
      // "no session to hangup" (bridge/attended_transfer.1002.console.log): nothing happens.
      if (!call || call.state === "ended" || call.state === "ending") return false;
      if (call.state !== "connected" && call.dir === 2) end(call, "Call Rejected", "reject");
      else end(call, "User hangup", "local");
      return true;
    },
    hold: function (on) {
      var call = cur();
      if (!call || call.state !== "connected") return false;
      holdCall(call, !!on);
      return true;
    },
    mute: function (on, direction) {
      var call = cur();
      if (!call || call.state !== "connected") return false;
      var d = parseInt(direction === undefined || direction === null ? 0 : direction, 10);
      if (!(d === 0 || d === 1 || d === 2)) d = 0;
      call.mute = on ? d : null;
      status(call.shownLine + "," + (on ? "Muted" : "Unmuted"));
      fire("call", [on ? "muted" : "unmuted", "", "", "", call.shownLine, ""]);
      return true;
    },
    dtmf: function (digits) {
      var call = cur();
      if (!call || call.state !== "connected") return false;
      rawEvent("EVENT,Send DTMF " + digits);
      return true;
    },
    transfer: function (number) {
      var call = cur();
      var tt = String(params.transfertype === undefined ? "-1" : params.transfertype);
      var target = number === undefined || number === null ? "" : String(number);
      if (target === "") {
        // bridge/attended_transfer.1002.console.log: caught inside the library; nothing is
        // sent, nothing reaches the host, the calls stay as they are.
        consoleLog("EVENT, USER, transfer (API_Transfer) to  on line: " + aline + " (" + aline + "/" + tt + ")");
        consoleLog("ERROR, catch on plhandler: Transfer ReferenceError: ep is not defined (ep is not defined)");
        return undefined;
      }
      if (!call || call.state !== "connected") return false;
      transfers.push({ call_id: call.id, peer: call.peer, to: target, type: tt, at: Date.now() });
      blindSteps(call);
      if (tt === "1") {
        // plain/blind_transfer.1002: the agent's leg ends ~1.1 s after the REFER.
        call.timers.push(later(1100, function () { end(call, "User hangup", "local"); }));
      } else {
        // -1 / 7 (and, not recorded, every other type): the leg stays up until the target
        // answers, then ends "Call terminated" (bridge/blind_transfer).
        var p = { call: call, to: target };
        pendingTransfers.push(p);
        if (simConfig.transferAnswerMs !== null && simConfig.transferAnswerMs !== undefined) {
          call.timers.push(later(simConfig.transferAnswerMs, function () { targetAnswered(p); }));
        }
      }
      return true;
    },
    conference: function () { return false; },
    setline: function (x) {
      // A small integer is a line (the recorder's setline(2) in bridge/attended_transfer); a
      // longer number is a peer username such as an extension (which wins is not recorded).
      if (/^-?\d{1,2}$/.test(String(x))) {
        var n = parseInt(x, 10);
        if (n > 0) aline = n;
        return true;
      }
      var s = String(x);
      var l = live();
      for (var i = 0; i < l.length; i++) {
        if (l[i].id === s) { setCurrent(l[i]); return true; }
      }
      for (var j = 0; j < l.length; j++) {
        if (l[j].peer === s) { setCurrent(l[j]); return true; }
      }
      // A bracketed id, or anything unknown: the current line silently stays.
      return true;
    },
    getline: function () { return aline; },
    getlinedetails: function (line) {
      var n = line === undefined || line === null || Number(line) === -1 ? aline : Number(line);
      var c = onLine(n);
      if (!c) return "";
      var text = { setup: "CallSetup", ringing: "Ringing", connected: "Speaking", ending: "CallDisconnect" }[c.state] || "";
      var server = params.serveraddress || "";
      return "LINEDETAILS," + n + "," + n + "," + text + "," + c.peer + "," + user() + "," + c.dir + "," + c.peer + "," + c.id + "," + c.peer + "," + user() + "," + c.dir + "," + server + ",," + (c.mute !== null) + "," + c.held + ",";
    },
    isregistered: function () { return registered; },
    isincall: function () { return live().some(function (c) { return c.state === "connected"; }); },
    ismuted: function () { var c = cur(); return !!(c && c.mute !== null); },
    isonhold: function () { var c = cur(); return !!(c && c.held); },
    getavailablecallfunc: function () { return "call,hangup,accept,reject,hold,mute,dtmf,transfer"; },
  };

  // Every vendor API call is logged with its arguments, for the tests (`__sim.log()`).
  Object.keys(api).forEach(function (name) {
    var fn = api[name];
    if (typeof fn !== "function") return;
    api[name] = function () {
      var args = Array.prototype.slice.call(arguments);
      apiLog.push({ t: Date.now(), fn: name, args: args.map(function (a) { return typeof a === "function" ? "[function]" : a; }) });
      // Bounded: a whole shift in demo mode must not grow the page without end.
      if (apiLog.length > API_LOG_MAX) apiLog.splice(0, apiLog.length - API_LOG_MAX);
      return fn.apply(api, args);
    };
  });

  api.__sim = {
    _sipTimer: function (n) {
      var fn = sipTimers[n];
      delete sipTimers[n];
      if (fn) fn();
    },
    // A caller rings this phone. Ignored (null) while not registered: no INVITE reaches a
    // phone that never registered (bridge/csp_register).
    incoming: function (number, opts) {
      opts = opts || {};
      if (!registered) {
        if (typeof console !== "undefined") console.warn("webphone simulator: not registered, incoming call from " + number + " dropped");
        return null;
      }
      var call = newCall(2, number, opts.callId ? String(opts.callId).replace(/^\[/, "").replace(/\]$/, "") : null);
      calls.push(call);
      if (!cur()) setCurrent(call); // a call already up keeps the line (bridge/two_inbound_second)
      statusLong(call, "CallSetup");
      callEvent(call, "setup");
      later(3, function () {
        if (call.state !== "setup") return;
        call.state = "ringing";
        status("-1,Ringing...");
        statusLong(call, "Ringing");
        callEvent(call, "ringing");
        status("-1,Incoming...");
      });
      var cancelMs = opts.cancelAfterMs || simConfig.incomingCancelMs;
      call.timers.push(later(cancelMs, function () { end(call, "Request Cancelled", "remote"); }));
      return call.id;
    },
    remoteAnswer: function (id) {
      var call = simFind(id);
      if (call && call.dir === 1) connect(call);
    },
    remoteHangup: function (id) {
      var call = simFind(id);
      if (!call) return;
      if (call.state === "connected") end(call, "Call terminated", "remote");
      else if (call.dir === 2) end(call, "Request Cancelled", "remote");
      else end(call, "Decline", "remote");
    },
    // The transfer target answers (transfertype 7): the agent's leg ends.
    transferAnswer: function (number) {
      var p = pendingTransfers.filter(function (q) { return !number || q.to === String(number); })[0];
      if (p) targetAnswered(p);
    },
    configure: function (opts) {
      Object.keys(opts || {}).forEach(function (k) { simConfig[k] = opts[k]; });
    },
    calls: function () {
      return calls.map(function (c) {
        return { id: c.id, dir: c.dir, peer: c.peer, state: c.state, line: c.line, held: c.held, muted: c.mute !== null, muteDirection: c.mute };
      });
    },
    transfers: function () { return transfers.map(function (t) { return Object.assign({}, t); }); },
    log: function () { return apiLog.map(function (e) { return { t: e.t, fn: e.fn, args: e.args.slice() }; }); },
  };

  window.webphone_api = api;
  // The real library reports `loaded` once its own scripts are in; never synchronously.
  later(simConfig.loadDelayMs, function () {
    fire("app", ["loaded"]);
    later(25, function () { status("-1,Initializing"); });
  });
})();
