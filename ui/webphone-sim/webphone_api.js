// Ringside's simulator of the Mizu WebPhone 3.6 public JavaScript API.
//
// The vendor library is licensed per customer and never shipped; demo mode and the tests use
// this instead. It reproduces what the real library reported in shared/traces/mizu-3.6,
// quirks included: new event names only (unless `apibehaviour` asks for old ones), call ids
// in brackets in call events and bare in CDRs, CDR times as strings, hold/resume as `trying`,
// `muted`/`unmuted`/`transfer` with empty arguments, every call on line 1, a CDR ~0.5 s after
// `disconnected`, and "User hangup" as the reason of an outbound ring timeout.
//
// `webphone_api.__sim` is the simulator's own control surface (not part of the vendor API):
// incoming(number, opts), remoteAnswer(id), remoteHangup(id), configure(opts), calls().
(function () {
  "use strict";

  var listeners = { app: [], reg: [], call: [], cdr: [], event: [], dtmf: [] };
  var params = {};
  var calls = []; // {id, dir, peer, state: 'ringing'|'connected'|'ended', setupAt, connectAt, hold, muted, timers}
  var current = null; // the call `setline` selected or the latest one
  var started = false;
  var simConfig = {
    answerDelayMs: 2000, // outbound: remote answers after this
    outbound: "auto", // auto | never | reject | busy
    notFound: ["1999"],
    cdrDelayMs: 500,
    incomingCancelMs: 60000, // inbound: the caller gives up after this
  };

  function fire(kind, args) {
    listeners[kind].forEach(function (fn) {
      try {
        fn.apply(null, args);
      } catch (e) {
        if (window.console) console.error("webphone listener failed", e);
      }
    });
  }

  function later(ms, fn) {
    return setTimeout(fn, ms);
  }

  function status(text) {
    fire("event", ["event", "STATUS," + text, null]);
  }

  function user() {
    return params.username || params.sipusername || "1002";
  }

  function callEvent(call, name) {
    var behaviour = String(params.apibehaviour || "1");
    var oldNames = { setup: "callSetup", ringing: "callRinging", connected: "callConnected", disconnected: "callDisconnected" };
    var args = [call.dir, call.peer, call.peer, 1, "[" + call.id + "]"];
    if (behaviour !== "0") fire("call", [name].concat(args));
    if (behaviour !== "1" && oldNames[name]) fire("call", [oldNames[name]].concat(args));
  }

  function statusLine(call, text) {
    var dirLocal = call.dir === 1 ? call.peer + "," + user() + ",1," + call.peer : call.peer + "," + user() + ",2," + call.peer;
    status("1," + text + "," + dirLocal + ",[" + call.id + "],,,,,");
  }

  function uuid() {
    function h(n) {
      var s = "";
      for (var i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
      return s;
    }
    return h(8) + "-" + h(4) + "-" + h(4) + "-" + h(4) + "-" + h(12);
  }

  function clearTimers(call) {
    (call.timers || []).forEach(clearTimeout);
    call.timers = [];
  }

  function end(call, reason) {
    if (call.state === "ended") return;
    clearTimers(call);
    var now = Date.now();
    var connectTime = (call.connectAt || now) - call.setupAt;
    var duration = call.connectAt ? now - call.connectAt : 0;
    call.state = "ended";
    statusLine(call, "CallDisconnect");
    callEvent(call, "disconnected");
    status("-1,Call Finished");
    status("1,Finished");
    later(simConfig.cdrDelayMs, function () {
      var caller = call.dir === 1 ? user() : call.peer;
      var called = call.dir === 1 ? call.peer : user();
      status("1,CDR," + caller + "," + called + ",NA," + connectTime + "," + duration + ",NA," + reason + "," + call.id);
      fire("cdr", [caller, called, String(connectTime), String(duration), call.dir, call.peer, reason, 1, call.id]);
      calls = calls.filter(function (c) { return c !== call; });
      if (current === call) current = null;
    });
  }

  function connect(call) {
    if (call.state !== "ringing") return;
    clearTimers(call);
    call.state = "connected";
    call.connectAt = Date.now();
    if (call.dir === 2) fire("event", ["event", "EVENT,Accepted", null]);
    else status("-1,Early media started");
    statusLine(call, "CallConnect");
    callEvent(call, "connected");
    status("-1,Speaking");
  }

  function find(x) {
    if (x === undefined || x === null || x === -1 || x === "-1") return current || calls[calls.length - 1] || null;
    var id = String(x).replace(/^\[/, "").replace(/\]$/, "");
    for (var i = 0; i < calls.length; i++) if (calls[i].id === id) return calls[i];
    // A line number: every call reports line 1 (as the real library did with two calls up).
    return current || calls[calls.length - 1] || null;
  }

  function live() {
    return calls.filter(function (c) { return c.state !== "ended"; });
  }

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
      status("-1,Starting VoIP engine (rtc)");
      later(20, function () {
        fire("app", ["started"]);
        later(100, function () {
          status("-1,Registering...");
          later(10, function () {
            status("-1,Registered.");
            fire("reg", ["registered", null]);
          });
        });
      });
      return true;
    },
    stop: function () {
      live().forEach(function (c) { end(c, "User hangup"); });
      started = false;
      fire("app", ["stopped"]);
      fire("reg", ["unregistered", null]);
      return true;
    },
    register: function () { fire("reg", ["registered", null]); return true; },
    unregister: function () { fire("reg", ["unregistered", null]); return true; },

    call: function (number) {
      number = String(number || "").split(",")[0];
      if (!number) return false;
      var call = { id: uuid(), dir: 1, peer: number, state: "ringing", setupAt: Date.now(), timers: [] };
      calls.push(call);
      current = call;
      status("-1,Starting call to " + number);
      later(150, function () {
        statusLine(call, "CallSetup");
        callEvent(call, "setup");
        statusLine(call, "InProgress");
        callEvent(call, "trying");
        if (simConfig.notFound.indexOf(number) >= 0) {
          call.timers.push(later(10, function () { end(call, "Not Found"); }));
          return;
        }
        call.timers.push(later(60, function () {
          status("-1,Ringing...");
          statusLine(call, "Ringing");
          callEvent(call, "ringing");
          if (simConfig.outbound === "auto") {
            call.timers.push(later(simConfig.answerDelayMs, function () { connect(call); }));
          } else if (simConfig.outbound === "reject") {
            call.timers.push(later(simConfig.answerDelayMs, function () { end(call, "Decline"); }));
          }
          var ringTimeout = parseInt(params.ringtimeout || "90000", 10);
          call.timers.push(later(ringTimeout, function () {
            status("-1,Hangup");
            end(call, "User hangup");
          }));
        }));
      });
      return true;
    },
    accept: function () {
      var call = find();
      if (!call || call.dir !== 2 || call.state !== "ringing") return false;
      connect(call);
      return true;
    },
    reject: function () {
      var call = find();
      if (!call || call.state !== "ringing") return false;
      status("-1,Hangup");
      fire("event", ["event", "EVENT,Rejected", null]);
      end(call, "Call Rejected");
      return true;
    },
    ignore: function () { return api.reject(); },
    hangup: function () {
      var call = find();
      if (!call || call.state === "ended") return false;
      status("-1,Hangup");
      if (call.state === "ringing" && call.dir === 2) {
        fire("event", ["event", "EVENT,Rejected", null]);
        end(call, "Call Rejected");
      } else {
        end(call, "User hangup");
      }
      return true;
    },
    hold: function (on) {
      var call = find();
      if (!call || call.state !== "connected") return false;
      call.hold = !!on;
      fire("event", ["event", on ? "EVENT,Hold" : "EVENT,Reload", null]);
      later(50, function () {
        statusLine(call, "InProgress");
        callEvent(call, "trying");
      });
      return true;
    },
    mute: function (on) {
      var call = find();
      if (!call || call.state !== "connected") return false;
      call.muted = !!on;
      status(on ? "1,Muted" : "1,Unmuted");
      fire("call", [on ? "muted" : "unmuted", "", "", "", 1, ""]);
      return true;
    },
    dtmf: function (digits) {
      var call = find();
      if (!call || call.state !== "connected") return false;
      fire("event", ["event", "EVENT,Send DTMF " + digits, null]);
      return true;
    },
    transfer: function (number) {
      var call = find();
      if (!call || call.state !== "connected") return false;
      var other = number ? null : live().filter(function (c) { return c !== call; })[0];
      if (!number && !other) return false;
      fire("event", ["event", "EVENT,transfer initiated successfully", null]);
      for (var i = 0; i < 3; i++) {
        (function (k) {
          later(20 + k * 100, function () {
            status("-1,Transfer");
            fire("call", ["transfer", "", "", "", -1, ""]);
          });
        })(i);
      }
      call.timers.push(later(900, function () {
        status("-1,Hangup");
        end(call, "User hangup");
        // Attended: the consulted party now talks to the caller; this phone is out of both.
        if (other) end(other, "User hangup");
      }));
      return true;
    },
    conference: function () { return false; },
    setline: function (x) {
      var call = find(x);
      if (call) current = call;
      return true;
    },
    getline: function () { return current ? 1 : 0; },
    getlinedetails: function () {
      var c = find();
      return c ? { callid: c.id, peer: c.peer, state: c.state } : null;
    },
    isregistered: function () { return started; },
    isincall: function () { return live().some(function (c) { return c.state === "connected"; }); },
    ismuted: function () { var c = find(); return !!(c && c.muted); },
    isonhold: function () { var c = find(); return !!(c && c.hold); },
    getavailablecallfunc: function () { return "call,hangup,accept,reject,hold,mute,dtmf,transfer"; },

    __sim: {
      incoming: function (number, opts) {
        opts = opts || {};
        var call = { id: opts.callId || uuid(), dir: 2, peer: String(number), state: "ringing", setupAt: Date.now(), timers: [] };
        calls.push(call);
        current = call;
        statusLine(call, "CallSetup");
        callEvent(call, "setup");
        later(5, function () {
          status("-1,Ringing...");
          statusLine(call, "Ringing");
          callEvent(call, "ringing");
          status("-1,Incoming...");
        });
        var cancelMs = opts.cancelAfterMs || simConfig.incomingCancelMs;
        call.timers.push(later(cancelMs, function () { end(call, "Request Cancelled"); }));
        return call.id;
      },
      remoteAnswer: function (id) {
        var call = find(id);
        if (call) connect(call);
      },
      remoteHangup: function (id) {
        var call = find(id);
        if (!call) return;
        end(call, call.state === "connected" ? "Call terminated" : "Request Cancelled");
      },
      configure: function (opts) {
        Object.keys(opts || {}).forEach(function (k) { simConfig[k] = opts[k]; });
      },
      calls: function () {
        return calls.map(function (c) { return { id: c.id, dir: c.dir, peer: c.peer, state: c.state }; });
      },
    },
  };

  window.webphone_api = api;
  // The real library reports `loaded` once its own scripts are in; never synchronously.
  later(30, function () {
    status("-1,Initializing");
    fire("app", ["loaded"]);
  });
})();
