// Progressive enhancement for the visit note; the page works without it (blank rows, "Remove" boxes).
(function () {
  "use strict";
  function reveal(root) {
    root.querySelectorAll("[data-js-show][hidden]").forEach(function (el) { el.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // A freshly added row: focus its first field so the therapist can type straight away.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.matches || !target.matches("table, tbody")) return;
    var rows = target.querySelectorAll("tr.rowform");
    var last = rows[rows.length - 1];
    var field = last && last.querySelector("select, input");
    if (field) field.focus();
  });
  // Ticking "Remove" re-runs the live screen and billing like any other change (the change event bubbles).
})();
