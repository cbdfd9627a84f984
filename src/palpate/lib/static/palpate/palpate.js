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

// A sticky save bar (.sticky-actions) must never hide the focused control. CSS scroll-padding
// covers focus that scrolls the page; a control already partly on screen is not scrolled by the
// browser, so lift it above the bar here (a control taller than the room above the bar: its top).
document.addEventListener("focusin", (event) => {
  const el = event.target;
  const bar = document.querySelector(".sticky-actions");
  if (!bar || !el.getBoundingClientRect || bar.contains(el) || getComputedStyle(bar).position !== "sticky") return;
  const box = el.getBoundingClientRect();
  const barTop = bar.getBoundingClientRect().top;
  if (box.bottom <= barTop || box.height === 0) return;
  const margin = 8;
  const by = box.height < barTop - 2 * margin ? box.bottom - barTop + margin : box.top - margin;
  window.scrollBy({ top: by, left: 0, behavior: "instant" });
});

// A table region (.table-scroll) is a tab stop only while it scrolls sideways: a keyboard user
// needs it then (WCAG 2.1.1), and an extra stop that does nothing when it does not.
function tableRegionsFocusable() {
  for (const region of document.querySelectorAll(".table-scroll[role=region]")) {
    if (region.scrollWidth > region.clientWidth + 1) region.setAttribute("tabindex", "0");
    else region.removeAttribute("tabindex");
  }
}
document.addEventListener("DOMContentLoaded", tableRegionsFocusable);
window.addEventListener("resize", tableRegionsFocusable);
document.addEventListener("htmx:afterSettle", tableRegionsFocusable);
