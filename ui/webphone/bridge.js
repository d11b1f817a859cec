// Ringside's webphone bridge: the only code that touches `webphone_api`.
//
// It forwards every callback's raw arguments, verbatim, with one `send(kind, args)`, and
// performs the commands it receives through one `onCommand(fn)`. All interpretation happens
// in Rust. Both directions go through `transport`.
//
// Facts this file follows (shared/reference/mizu-webphone-api.md, "Measured against the real
// library through Ringside's own bridge"; recordings in tests/fixtures/traces/mizu-3.6-bridge):
// - `setline` matches only the BARE SIP Call-ID (or a peer username): a bracketed id silently
//   keeps the current line (two_inbound_second answered the wrong caller). Commands carry bare
//   ids, and the selection is checked with `getline()`/`getlinedetails(-1)` before acting.
// - `mute(on, 2)` mutes the microphone only; 0 would also silence the caller for the agent.
// - `transfertype` defaults to 7 (the agent's leg stays up until the target answers); it is set
//   to 1 (blind: the agent's leg ends after the REFER) explicitly.
// - `transfer("")` throws inside the library and reports nothing (attended_transfer): attended
//   transfer is completed as `transfer(consulted number)` on the original line instead.
// - A callback that throws is removed by the library for good: every callback catches its own.
(function () {
  "use strict";

  // The page runs in a sandboxed iframe of the agent's window, with no IPC: both directions
  // are messages to and from that window (ui/static/relay.js), which alone talks to the core.
  // Messages go to its origin only, and only its messages are heard.
  var HOST = window.parent;
  var HOST_ORIGIN = location.protocol === "webphone:" ? "tauri://localhost" : "http://tauri.localhost";
  // Callbacks reported in one task (a SIP message often yields several) go in one message.
  var outgoing = null;
  function flush() {
    var events = outgoing;
    outgoing = null;
    try {
      HOST.postMessage({ ringside: "events", events: events }, HOST_ORIGIN);
    } catch (e) {
      console.error("ringside bridge: cannot forward", events.length, "callbacks", e);
    }
  }
  var transport = {
    send: function (kind, args) {
      var plain;
      try {
        // As JSON, which is what reaches the core: a function or a DOM object among the
        // library's arguments would make postMessage throw and lose the callback.
        plain = JSON.parse(JSON.stringify(args === undefined ? [] : args));
      } catch (e) {
        plain = [String(e)];
        kind = "bridge_error";
      }
      if (!outgoing) {
        outgoing = [];
        Promise.resolve().then(flush);
      }
      outgoing.push([kind, plain]);
    },
    onCommand: function (fn) {
      return new Promise(function (resolve, reject) {
        window.addEventListener("message", function (e) {
          if (e.source !== HOST || e.origin !== HOST_ORIGIN) return;
          var m = e.data || {};
          if (m.ringside === "command") fn(m.command);
          else if (m.ringside === "attached") resolve();
          else if (m.ringside === "attach_failed") reject(m.message);
          else if (m.ringside === "refused") console.warn("ringside bridge: the core refused a callback:", m.message);
        });
        HOST.postMessage({ ringside: "attach" }, HOST_ORIGIN);
      });
    },
  };

  // JSON has no `undefined`: the library passes it for absent arguments.
  function raw(argsLike) {
    var out = [];
    for (var i = 0; i < argsLike.length; i++) {
      out.push(argsLike[i] === undefined ? null : argsLike[i]);
    }
    return out;
  }

  // Callbacks are held back until the command channel is attached: the core answers `loaded`
  // with `configure` and `start` at once (it also keeps commands until a channel attaches, so
  // the order holds either way).
  var ready = false;
  var held = [];
  function send(kind, args) {
    try {
      if (ready) {
        transport.send(kind, args);
      } else {
        held.push([kind, args]);
      }
    } catch (e) {
      console.error("ringside bridge: cannot forward", kind, e);
    }
  }
  function release() {
    ready = true;
    held.forEach(function (h) {
      transport.send(h[0], h[1]);
    });
    held = [];
  }

  function forward(kind) {
    return function () {
      try {
        send(kind, raw(arguments));
      } catch (e) {
        // Never let an exception escape into the library: it would drop this callback.
        console.error("ringside bridge: callback failed", kind, e);
      }
    };
  }

  var api = window.webphone_api;
  if (!api) {
    transport.send("bridge_error", ["webphone_api.js did not load (check the webphone location in Settings)"]);
    return;
  }

  function failed(cmd, code, message) {
    send("command_failed", [
      {
        cmd: String((cmd && cmd.cmd) || "?"),
        call_id: (cmd && cmd.call_id) || null,
        code: code,
        message: String(message),
      },
    ]);
  }

  transport
    .onCommand(function (cmd) {
      try {
        perform(cmd);
      } catch (e) {
        failed(cmd, "threw", e);
      }
    })
    .then(release, function (e) {
      release();
      transport.send("bridge_error", ["cannot receive commands", String(e)]);
    });

  send("env", [
    {
      webrtc: typeof window.RTCPeerConnection === "function",
      getUserMedia: !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia),
      userAgent: navigator.userAgent,
    },
  ]);

  api.onAppStateChange(forward("app"));
  api.onRegStateChange(forward("reg"));
  api.onCallStateChange(forward("call"));
  api.onCdr(forward("cdr"));
  api.onEvent(function (type) {
    try {
      // `log` lines are the library's debug chatter (and may echo parameters): not forwarded.
      if (type === "log") return;
      send("event", raw(arguments));
    } catch (e) {
      console.error("ringside bridge: event callback failed", e);
    }
  });
  if (typeof api.onDTMF === "function") api.onDTMF(forward("dtmf"));

  // The fixed parameters Ringside needs whatever the customer's config file says. They are set
  // after the core's own, so nothing can override them.
  var FIXED = {
    enginepriority_webrtc: "5",
    showtoasts: "false",
    autostart: "false",
    register: "1",
    transfertype: "1",
  };

  function bare(id) {
    return String(id || "")
      .trim()
      .replace(/^\[/, "")
      .replace(/\]$/, "")
      .trim();
  }

  // Which call the library has selected, as far as it tells. The real 3.6 answers
  // `getlinedetails(-1)` with a line such as
  // `LINEDETAILS,2,2,Speaking,1003,1002,1,1003,<bare Call-ID>,1003,1002,1,localhost,,false,false,`
  // (recorded: attended_transfer.1002.console.log): the Call-ID is field 8. Other shapes (a
  // bracketed id as in STATUS lines, a `callid` field) are read too; null when none is named,
  // and "" when the library has no call on that line at all.
  function selectedCallId() {
    var details;
    try {
      details = api.getlinedetails(-1);
    } catch (e) {
      return null;
    }
    if (details === "") return "";
    if (details === undefined || details === null) return null;
    if (typeof details === "object" && details.callid) return bare(details.callid);
    var text = typeof details === "string" ? details : JSON.stringify(details);
    if (text.indexOf("LINEDETAILS,") === 0) {
      return bare(text.split(",")[8] || "");
    }
    var m = /\[([^\]\s,]+)\]/.exec(text) || /"callid"\s*:\s*"([^"]+)"/.exec(text);
    return m ? bare(m[1]) : null;
  }

  // Select the call a command is for, by bare Call-ID, and make sure the library did select
  // it: a command for a call the library no longer has is refused, never applied to another.
  function onCall(cmd, fn) {
    var id = bare(cmd.call_id);
    if (!id) return failed(cmd, "no_call_id", "a call command came without a call id");
    api.setline(id);
    var line = typeof api.getline === "function" ? api.getline() : null;
    if (line !== null && line !== undefined && Number(line) <= 0) {
      return failed(cmd, "call_unknown", "the webphone has no call " + id + "; nothing was done");
    }
    var selected = selectedCallId();
    if (selected !== null && selected !== id) {
      return failed(
        cmd,
        "call_unknown",
        "the webphone could not select call " + id +
          (selected ? " (its current call is " + selected + ")" : " (it has no such call)") +
          "; nothing was done"
      );
    }
    var result = fn();
    if (result === false) {
      failed(cmd, "refused_by_library", "the webphone refused " + cmd.cmd + " for call " + id);
    }
    return result;
  }

  function perform(cmd) {
    switch (cmd && cmd.cmd) {
      case "configure":
        Object.keys(cmd.params || {}).forEach(function (k) {
          api.setparameter(k, String(cmd.params[k]));
        });
        Object.keys(FIXED).forEach(function (k) {
          api.setparameter(k, FIXED[k]);
        });
        return;
      case "start":
        return api.start();
      case "call":
        if (api.call(cmd.number) === false) {
          failed(cmd, "refused_by_library", "the webphone refused to call " + cmd.number);
        }
        return;
      case "accept":
        return onCall(cmd, function () { return api.accept(); });
      case "reject":
        return onCall(cmd, function () { return api.reject(); });
      case "hangup":
        return onCall(cmd, function () { return api.hangup(); });
      case "hold":
        return onCall(cmd, function () { return api.hold(!!cmd.on); });
      case "mute":
        // Direction 2: the agent's microphone only; the agent keeps hearing the caller.
        return onCall(cmd, function () { return api.mute(!!cmd.on, 2); });
      case "dtmf":
        return onCall(cmd, function () { return api.dtmf(cmd.digits); });
      case "transfer":
        // A REFER on the selected line; `transfertype` 1 (set in `configure`) ends the agent's
        // leg once it is sent. Attended completion uses this too, on the original line.
        return onCall(cmd, function () {
          if (!cmd.number) return false;
          return api.transfer(cmd.number);
        });
      case "stop":
        return api.stop();
      case "sim_remote_hangup":
        if (api.__sim) return api.__sim.remoteHangup(cmd.call_id || undefined);
        return;
      case "sim_remote_answer":
        if (api.__sim) return api.__sim.remoteAnswer(cmd.call_id || undefined);
        return;
      case "sim_incoming":
        // Demo mode: only the simulator has this hook; the real library never sees it.
        if (api.__sim) return api.__sim.incoming(cmd.number);
        return;
      default:
        failed(cmd, "unknown_command", "the bridge does not know this command");
    }
  }

  window.ringsideBridge = { transport: transport, perform: perform };
})();
