// Progressive enhancements for the plan-of-care editor; every part works without them.
(() => {
  let activeRow = null;

  // Remember the technique row the therapist last worked in, for the body chart below.
  document.addEventListener("focusin", (event) => {
    const row = event.target.closest && event.target.closest("[data-item-row]");
    if (row) activeRow = row;
  });

  function pickRegion(shape) {
    const rows = document.querySelectorAll("[data-item-row]");
    const row = activeRow && document.contains(activeRow) ? activeRow : rows[rows.length - 1];
    const status = document.getElementById("chart-status");
    if (!row) {
      if (status) status.textContent = "Add a technique first, then choose its region on the chart.";
      return;
    }
    const region = row.querySelector("select[name$='-region']");
    const side = row.querySelector("select[name$='-side']");
    if (region) region.value = shape.dataset.region;
    if (side) side.value = shape.dataset.side || "";
    const legend = row.querySelector("legend");
    const where = (shape.dataset.side ? shape.dataset.side + " " : "") + shape.dataset.region.replace(/_/g, " ");
    if (status) status.textContent = "Region set to " + where + " for " + (legend ? legend.textContent.trim() : "the item") + ".";
  }

  function chartShape(event) {
    const shape = event.target.closest && event.target.closest("#plan-chart [data-region][role=button]");
    return shape || null;
  }

  document.addEventListener("click", (event) => {
    const shape = chartShape(event);
    if (shape) pickRegion(shape);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const shape = chartShape(event);
    if (shape) { event.preventDefault(); pickRegion(shape); }
  });

  // Choosing a home exercise fills in the library's dose and wording where the fields are empty.
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!select.matches || !select.matches("[data-home-row] select[name$='-exercise']")) return;
    const data = document.getElementById("exercise-library");
    if (!data) return;
    const entry = JSON.parse(data.textContent)[select.value];
    if (!entry) return;
    const row = select.closest("[data-home-row]");
    const dose = row.querySelector("input[name$='-dose']");
    const instructions = row.querySelector("textarea[name$='-instructions']");
    if (dose && !dose.value.trim()) dose.value = entry.dose;
    if (instructions && !instructions.value.trim()) instructions.value = entry.instructions;
  });

  // After a row was added or removed, put the focus somewhere sensible.
  document.addEventListener("htmx:afterSettle", () => {
    const form = document.getElementById("plan-form");
    if (!form) return;
    const summary = form.querySelector("[data-focus]");
    if (summary) { summary.focus(); return; }
    const added = form.querySelector("[data-added]");
    if (added) {
      const kind = added.dataset.added;
      const fields = form.querySelectorAll("#" + kind + " fieldset.row");
      const last = fields[fields.length - 1];
      const first = last && last.querySelector("select, input:not([type=hidden]), textarea");
      if (first) first.focus();
    }
  });
})();
