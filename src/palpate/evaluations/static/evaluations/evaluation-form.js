// The evaluation page's pain body chart: selecting a region (click, Enter or Space) jumps to its
// pain row, fills the first blank row, or asks the server for a new row pre-filled with the region
// and side. The page works without this script: the table's selects do the same job.
(function () {
  "use strict";

  function rowsOf(kind) {
    return Array.prototype.slice.call(document.querySelectorAll("#" + kind + "-rows tr.eval-row"));
  }

  function field(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }

  function focusIntensity(row) {
    var input = field(row, "intensity");
    if (input) { input.focus(); if (input.select) input.select(); }
    row.scrollIntoView({ block: "nearest" });
  }

  function choose(region, side) {
    var rows = rowsOf("pain");
    var match = rows.find(function (row) {
      return field(row, "region").value === region && (field(row, "side").value || "") === side;
    });
    if (match) { focusIntensity(match); return; }
    var blank = rows.find(function (row) { return !field(row, "region").value; });
    if (blank) {
      field(blank, "region").value = region;
      field(blank, "side").value = side;
      focusIntensity(blank);
      return;
    }
    var chart = document.querySelector(".pain-chart[data-row-url]");
    var total = document.getElementById("id_pain-TOTAL_FORMS");
    if (!chart || !total || !window.htmx) return;
    window.htmx.ajax("GET", chart.getAttribute("data-row-url"), {
      target: "#pain-rows", swap: "beforeend",
      values: { "pain-TOTAL_FORMS": total.value, region: region, side: side }
    }).then(function () {
      var added = rowsOf("pain");
      if (added.length) focusIntensity(added[added.length - 1]);
    });
  }

  function onChart(event) {
    var shape = event.target.closest ? event.target.closest("#pain-chart [data-region]") : null;
    if (!shape) return;
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    choose(shape.getAttribute("data-region"), shape.getAttribute("data-side") || "");
  }

  document.addEventListener("click", onChart);
  document.addEventListener("keydown", onChart);

  // After "Add a row" (htmx), put the keyboard in the new row's first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !/-rows$/.test(target.id || "") || event.detail.requestConfig.verb !== "get") return;
    var trigger = event.detail.requestConfig.elt;
    if (!trigger || !trigger.classList || !trigger.classList.contains("add-row")) return;
    var rows = target.querySelectorAll("tr.eval-row");
    var last = rows[rows.length - 1];
    var first = last && last.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  });
})();
