// Loads the Yew app (wasm-bindgen's `--target web` output). If it cannot start, say so on
// the screen instead of showing an empty window.
import init from "./ringside-ui.js";

function fail(what) {
  const p = document.createElement("p");
  p.className = "boot-error";
  p.setAttribute("role", "alert");
  p.textContent = "Ringside's window could not start: " + what;
  document.body.appendChild(p);
}

window.addEventListener("error", (e) => fail(e.message));
init()
  .then((wasm) => {
    // Read by `cargo xtask bench`: how much linear memory the app's wasm holds.
    window.ringsideWasmMemory = wasm.memory;
  })
  .catch((e) => fail(String(e)));
