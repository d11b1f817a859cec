// The first command's answer marks the bare app interactive (read by `cargo xtask bench`).
window.__TAURI__.core.invoke("ping").then(function (answer) {
  window.bareReady = Date.now();
  document.getElementById("state").textContent = answer;
});
