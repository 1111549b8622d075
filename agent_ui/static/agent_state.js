// The agent's state panel: counts the time in state on from what the server rendered
// (data-elapsed, in seconds, when the panel arrived: no clock skew between the two), and
// shows an agent API refusal under the controls.
(function () {
  var seen = new WeakMap();

  function clock(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m;
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" : "") + s;
  }

  function tick() {
    var panel = document.getElementById("agent-state");
    if (!panel) {
      return;
    }
    if (!seen.has(panel)) {
      seen.set(panel, Date.now());
    }
    var timer = panel.querySelector(".state-timer");
    var elapsed = parseInt(panel.dataset.elapsed || "0", 10);
    var since = Math.floor((Date.now() - seen.get(panel)) / 1000);
    if (timer) {
      timer.textContent = clock(elapsed + since);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:wsAfterMessage", tick);

  document.addEventListener("htmx:afterRequest", function (event) {
    var error = document.getElementById("agent-error");
    var xhr = event.detail && event.detail.xhr;
    if (!error || !xhr || !event.detail.elt.closest("#agent-controls")) {
      return;
    }
    if (xhr.status >= 200 && xhr.status < 300) {
      error.hidden = true;
      error.textContent = "";
      return;
    }
    var message = xhr.statusText;
    try {
      message = JSON.parse(xhr.responseText).message || message;
    } catch (ignored) {
      // not JSON: keep the status text
    }
    error.textContent = message;
    error.hidden = false;
  });
})();
