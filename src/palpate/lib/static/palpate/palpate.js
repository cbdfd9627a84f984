// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches && el.matches("select[data-autosubmit]")) el.form.submit();
});

// After a failed save the page comes back with its error summary: focus it, so a keyboard or
// screen-reader user starts from the list of what to fix (each item links to its field).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});

// "Add a row" buttons (htmx) say how many rows their table has, so the new row's controls get a
// number of their own in their accessible names ("Technique, treatment row 3").
document.addEventListener("htmx:configRequest", (event) => {
  const source = event.detail.elt;
  const rows = source && source.getAttribute && source.getAttribute("data-count-rows");
  if (rows) event.detail.parameters.n = document.querySelectorAll(rows).length + 1;
});
