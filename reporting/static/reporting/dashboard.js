/* Dashboard charts: drawn once, then fed the new data after each htmx refresh (canvases are hx-preserve'd). */
(function () {
  "use strict";
  // Same hues as the .status-* badges in app.css.
  var COLOURS = { completed: "#1a7f37", no_answer: "#9a6700", failed: "#cf222e", other: "#0969da" };
  var LABELS = { completed: "Completed", no_answer: "No answer / busy", failed: "Failed", other: "Other (pending, live, cancelled, unknown)" };
  var PALETTE = ["#0969da", "#1a7f37", "#9a6700", "#cf222e", "#8250df", "#bf3989", "#6e7781", "#1b7c83", "#953800", "#0550ae"];
  var charts = {};

  function readData() {
    var node = document.getElementById("dashboard-chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function overTimeDatasets(data) {
    return Object.keys(COLOURS).map(function (key) {
      return { label: LABELS[key], data: data.over_time.series[key], backgroundColor: COLOURS[key], stack: "calls" };
    });
  }

  function draw() {
    if (typeof Chart === "undefined") return;
    var data = readData();
    if (!data) return;
    var overTime = document.getElementById("chart-over-time");
    if (overTime) {
      if (charts.overTime && charts.overTime.canvas === overTime) {
        charts.overTime.data.labels = data.over_time.labels;
        charts.overTime.data.datasets.forEach(function (ds, i) { ds.data = overTimeDatasets(data)[i].data; });
        charts.overTime.update("none");
      } else {
        charts.overTime = new Chart(overTime, {
          type: "bar",
          data: { labels: data.over_time.labels, datasets: overTimeDatasets(data) },
          options: { responsive: true, maintainAspectRatio: false, animation: false,
            scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
        });
      }
    }
    var hangups = document.getElementById("chart-hangups");
    if (hangups) {
      var colours = data.hangups.labels.map(function (_, i) { return PALETTE[i % PALETTE.length]; });
      if (charts.hangups && charts.hangups.canvas === hangups) {
        charts.hangups.data.labels = data.hangups.labels;
        charts.hangups.data.datasets[0].data = data.hangups.values;
        charts.hangups.data.datasets[0].backgroundColor = colours;
        charts.hangups.update("none");
      } else {
        charts.hangups = new Chart(hangups, {
          type: "doughnut",
          data: { labels: data.hangups.labels, datasets: [{ data: data.hangups.values, backgroundColor: colours }] },
          options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "right" } } }
        });
      }
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "dashboard-figures") draw();
  });
})();
