// Draws a report's charts with Chart.js from the JSON data block the server rendered
// (#report-data), then marks the page as drawn (the PDF printer waits for that mark).
(function () {
  "use strict";

  function draw() {
    var data = JSON.parse(document.getElementById("report-data").textContent);
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.font.size = 11;

    new Chart(document.getElementById("volume-chart"), {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Answered", data: data.answered, backgroundColor: "#2e7d32", stack: "calls" },
          { label: "Abandoned", data: data.abandoned, backgroundColor: "#c62828", stack: "calls" },
          { label: "Other (short abandon, exited, unknown)", data: data.other,
            backgroundColor: "#9e9e9e", stack: "calls" },
          { type: "line", label: "Service level %", data: data.service_level, yAxisID: "sl",
            borderColor: "#1565c0", backgroundColor: "#1565c0", pointRadius: 2 }
        ]
      },
      options: {
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: "calls" } },
          sl: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                title: { display: true, text: "service level %" } }
        }
      }
    });

    var days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    var hours = [];
    for (var h = 0; h < 24; h += 1) { hours.push(String(h).padStart(2, "0")); }
    var cells = [];
    var most = 1;
    data.heatmap.forEach(function (calls, day) {
      calls.forEach(function (count, hour) {
        cells.push({ x: hours[hour], y: days[day], v: count });
        most = Math.max(most, count);
      });
    });
    new Chart(document.getElementById("heatmap-chart"), {
      type: "matrix",
      data: {
        datasets: [{
          label: "Offered calls",
          data: cells,
          backgroundColor: function (context) {
            var cell = context.dataset.data[context.dataIndex];
            var share = cell ? cell.v / most : 0;
            return "rgba(230, 81, 0, " + (0.06 + 0.94 * share).toFixed(3) + ")";
          },
          borderColor: "#ffffff",
          borderWidth: 1,
          width: function (context) {
            var area = context.chart.chartArea;
            return area ? area.width / 24 - 1 : 10;
          },
          height: function (context) {
            var area = context.chart.chartArea;
            return area ? area.height / 7 - 1 : 10;
          }
        }]
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function () { return ""; },
              label: function (context) {
                var cell = context.raw;
                return cell.y + " " + cell.x + ":00: " + cell.v;
              }
            }
          }
        },
        scales: {
          x: { type: "category", labels: hours, offset: true, grid: { display: false } },
          y: { type: "category", labels: days, offset: true, reverse: true, grid: { display: false } }
        }
      }
    });
    document.documentElement.dataset.chartsReady = "1";
  }

  var print = document.getElementById("print-report");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
  draw();
})();
