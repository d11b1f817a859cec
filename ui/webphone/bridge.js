// Ringside's webphone bridge: the only code that touches `webphone_api`.
//
// It forwards every callback's raw arguments, verbatim, with one `send(kind, args)`, and
// performs the commands it receives through one `onCommand(fn)`. All interpretation happens
// in Rust. Both directions go through `transport`, so a later mode can host the webphone
// outside the Tauri webview without touching the engine.
(function () {
  "use strict";

  var transport = {
    send: function (kind, args) {
      return window.__TAURI__.core
        .invoke("phone_event", { kind: kind, args: args })
        .catch(function (e) {
          console.error("ringside bridge: phone_event failed", e);
        });
    },
    onCommand: function (fn) {
      return window.__TAURI__.event.listen("ringside://phone-command", function (e) {
        fn(e.payload);
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

  // Callbacks are held back until the command listener is registered: the core answers
  // `loaded` with `configure` and `start` at once, and an event emitted before `listen` has
  // resolved is lost, which would leave the phone unstarted.
  var ready = false;
  var held = [];
  function send(kind, args) {
    if (ready) {
      transport.send(kind, args);
    } else {
      held.push([kind, args]);
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
      send(kind, raw(arguments));
    };
  }

  var api = window.webphone_api;
  if (!api) {
    transport.send("bridge_error", ["webphone_api.js did not load (check the webphone location in Settings)"]);
    return;
  }

  transport
    .onCommand(function (cmd) {
      try {
        perform(cmd);
      } catch (e) {
        transport.send("bridge_error", [String((cmd && cmd.cmd) || "?"), String(e)]);
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
    // `log` lines are the library's debug chatter (and may echo parameters): not forwarded.
    if (type === "log") return;
    send("event", raw(arguments));
  });
  if (typeof api.onDTMF === "function") api.onDTMF(forward("dtmf"));

  // The fixed parameters Ringside needs whatever the customer's config file says.
  var FIXED = {
    enginepriority_webrtc: "5",
    showtoasts: "false",
    autostart: "false",
    register: "1",
  };

  function onLine(callId, fn) {
    if (callId) api.setline(callId);
    return fn();
  }

  function perform(cmd) {
    switch (cmd && cmd.cmd) {
      case "configure":
        Object.keys(FIXED).forEach(function (k) {
          api.setparameter(k, FIXED[k]);
        });
        Object.keys(cmd.params || {}).forEach(function (k) {
          api.setparameter(k, String(cmd.params[k]));
        });
        return;
      case "start":
        return api.start();
      case "call":
        return api.call(cmd.number);
      case "accept":
        return onLine(cmd.call_id, function () { return api.accept(); });
      case "reject":
        return onLine(cmd.call_id, function () { return api.reject(); });
      case "hangup":
        return onLine(cmd.call_id, function () { return api.hangup(); });
      case "hold":
        return onLine(cmd.call_id, function () { return api.hold(!!cmd.on); });
      case "mute":
        return onLine(cmd.call_id, function () { return api.mute(!!cmd.on, 0); });
      case "dtmf":
        return onLine(cmd.call_id, function () { return api.dtmf(cmd.digits); });
      case "transfer":
        return onLine(cmd.call_id, function () { return api.transfer(cmd.number); });
      case "transfer_to_call":
        // Attended transfer: with both calls up, transfer("") joins the current line to the other.
        return onLine(cmd.call_id, function () { return api.transfer(""); });
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
        console.warn("ringside bridge: unknown command", cmd);
    }
  }

  window.ringsideBridge = { transport: transport, perform: perform };
})();
