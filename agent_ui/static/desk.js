// The desk's call card: counts the time in the call's state on from what the server
// rendered (data-elapsed, in seconds, when the card arrived), like the agent state panel.
// A form of the pop that was refused keeps what was typed: htmx swaps only the answer.
(function () {
  var seen = new WeakMap();

  function clock(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function tick() {
    var card = document.getElementById("call-card");
    if (!card || !card.dataset.elapsed) {
      return;
    }
    if (!seen.has(card)) {
      seen.set(card, Date.now());
    }
    var timer = card.querySelector(".call-timer");
    var elapsed = parseInt(card.dataset.elapsed, 10);
    if (timer) {
      timer.textContent = clock(elapsed + Math.floor((Date.now() - seen.get(card)) / 1000));
    }
  }

  // refused answers (400, 403, 409) carry a fragment to show: let htmx swap them in
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status === 400 || status === 403 || status === 409) {
      var elt = event.detail.elt;
      if (elt && elt.closest && elt.closest("#call-customer, #call-notes, #tasks-due")) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:wsAfterMessage", tick);
})();
