// The wallboard: counts waits and times in state on from the server's clock (each pushed
// frame carries it in #wb-clock, so a wrong clock on the TV does not matter), draws today's
// chart with the vendored Chart.js (the reports' charting library), and shows the outcome of a supervisor action.
(function () {
  var offset = 0; // server time minus this browser's time, seconds

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var mm = h && m < 10 ? "0" + m : "" + m;
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" : "") + s;
  }

  function syncClock() {
    var element = document.getElementById("wb-clock");
    if (element) {
      offset = parseFloat(element.dataset.now) - Date.now() / 1000;
    }
  }

  function tick() {
    var now = Date.now() / 1000 + offset;
    document.querySelectorAll("#wallboard [data-since]").forEach(function (element) {
      element.textContent = clock(now - parseFloat(element.dataset.since));
    });
  }

  var chart = null;
  var drawn = null;

  function drawChart() {
    var plot = document.querySelector("#wb-chart .wb-chart-plot");
    if (!plot || typeof Chart === "undefined") {
      return;
    }
    var raw = plot.dataset.series || "[]";
    var canvas = plot.querySelector("canvas");
    if (chart && drawn === raw && canvas && chart.canvas === canvas) {
      return;
    }
    var series = JSON.parse(raw);
    if (chart) {
      chart.destroy();
    }
    if (!canvas) {
      canvas = document.createElement("canvas");
      plot.appendChild(canvas);
    }
    chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: series.map(function (row) { return row[0]; }),
        datasets: [
          { label: plot.dataset.offeredLabel, data: series.map(function (row) { return row[1]; }), backgroundColor: "#93c5fd" },
          { label: plot.dataset.answeredLabel, data: series.map(function (row) { return row[2]; }), backgroundColor: "#16a34a" }
        ]
      },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    drawn = raw;
  }

  function refresh() {
    syncClock();
    tick();
    try {
      drawChart();
    } catch (error) {
      console.error("wallboard chart: " + error);
    }
  }

  setInterval(tick, 1000);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
  document.addEventListener("htmx:wsAfterMessage", refresh);

  document.addEventListener("htmx:afterRequest", function (event) {
    var result = document.getElementById("wb-action-result");
    var xhr = event.detail && event.detail.xhr;
    if (!result || !xhr || !event.detail.elt.classList.contains("wb-action")) {
      return;
    }
    var message = xhr.statusText;
    try {
      message = JSON.parse(xhr.responseText).message || message;
    } catch (ignored) {
      // not JSON: keep the status text
    }
    result.textContent = message;
    result.dataset.ok = xhr.status >= 200 && xhr.status < 300 ? "1" : "0";
    result.hidden = false;
  });
})();
