// The agent's window's side of the webphone, and the only path between it and the core.
//
// The vendor's library runs in a sandboxed iframe from `webphone://`: another origin, so it
// cannot touch this page, and without IPC, so it reaches no command. It posts its callbacks
// here; this relays them to the core as `phone_event` and posts the core's commands back.
// Nothing else crosses: messages from any other source or origin are ignored, and commands
// (SIP credentials among them) are posted to the webphone's origin only.
//
// Why an iframe rather than a hidden window of its own (docs/architecture.md, issue 14): one
// web process less (about 70 MiB), and the same timer throttling.
(function () {
  "use strict";

  var core = window.__TAURI__ && window.__TAURI__.core;
  if (!core) return;

  // Where src-tauri/src/webphone.rs serves the host page (Windows uses http://<scheme>.localhost).
  var ORIGIN = location.protocol === "tauri:" ? "webphone://localhost" : "http://webphone.localhost";
  // As the core's `INGRESS_MAX_BATCH`.
  var MAX_BATCH = 64;
  // Callbacks waiting for the core: far beyond what the library sends; a script flooding
  // past it loses its own callbacks, never this window's memory.
  var MAX_QUEUED = 4096;

  var frame = document.createElement("iframe");
  frame.id = "webphone-host";
  frame.className = "webphone-host";
  frame.title = "Ringside webphone host";
  // allow-same-origin keeps the frame's own origin (webphone://localhost, not this page's):
  // the library keeps its storage, and commands can be posted to that origin only.
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin");
  frame.setAttribute("allow", "microphone; autoplay");
  frame.setAttribute("aria-hidden", "true");
  frame.setAttribute("tabindex", "-1");
  frame.setAttribute("inert", "");

  function post(message) {
    if (frame.contentWindow) frame.contentWindow.postMessage(message, ORIGIN);
  }

  // One request in flight; what arrives meanwhile goes in the next one, in order. At the
  // library's pace that is one callback per request; in a burst, up to MAX_BATCH.
  var queue = [];
  var inFlight = false;
  // For support and for `cargo xtask bench`: callbacks answered by the core, batches it
  // refused (a batch is answered with its first refusal), and when the last answer came.
  var stats = { answered: 0, refused_batches: 0, dropped: 0, last_answer_ms: 0 };
  function pump() {
    if (inFlight || queue.length === 0) return;
    var batch = queue.splice(0, MAX_BATCH);
    inFlight = true;
    core
      .invoke("phone_event", { events: batch })
      .catch(function (e) {
        var message = (e && e.message) || String(e);
        stats.refused_batches++;
        console.error("ringside relay: the core refused webphone callbacks:", message);
        post({ ringside: "refused", message: message });
      })
      .then(function () {
        stats.answered += batch.length;
        stats.last_answer_ms = Date.now();
        inFlight = false;
        pump();
      });
  }

  function attach() {
    var channel = new core.Channel();
    channel.onmessage = function (command) {
      post({ ringside: "command", command: command });
    };
    core.invoke("phone_attach", { commands: channel }).then(
      function () {
        post({ ringside: "attached" });
      },
      function (e) {
        post({ ringside: "attach_failed", message: (e && e.message) || String(e) });
      }
    );
  }

  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || e.origin !== ORIGIN) return;
    var m = e.data;
    if (!m || typeof m !== "object") return;
    if (m.ringside === "events" && Array.isArray(m.events)) {
      m.events.forEach(function (ev) {
        if (!Array.isArray(ev) || typeof ev[0] !== "string" || !Array.isArray(ev[1])) return;
        if (queue.length >= MAX_QUEUED) {
          if (stats.dropped++ === 0) console.error("ringside relay: webphone callbacks dropped (flood)");
          return;
        }
        queue.push([ev[0], ev[1]]);
      });
      pump();
    } else if (m.ringside === "attach") {
      attach();
    }
  });

  function mount() {
    frame.src = ORIGIN + "/ringside/host.html";
    document.body.appendChild(frame);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.ringsideRelay = { frame: frame, origin: ORIGIN, stats: stats };
})();
