// Leaving a form with unsaved text asks first (issue 12). A form opts in with the attribute
// data-unsaved-warning: typing in it marks it dirty; submitting it clears the mark; while a form
// is dirty, closing or reloading the tab (beforeunload) and following a link in the app ask first.
// Every page works without this script: it only adds the question.
(() => {
  "use strict";
  const dirty = new Set();
  const QUESTION = "You have unsaved changes on this page. Leave without saving them?";

  const markDirty = (event) => {
    const field = event.target;
    const form = field && field.form;
    if (form && form.hasAttribute("data-unsaved-warning")) dirty.add(form);
  };
  document.addEventListener("input", markDirty, true);
  document.addEventListener("change", markDirty, true);

  // The form's own submit saves what was typed: nothing to ask about.
  document.addEventListener("submit", (event) => dirty.delete(event.target), true);

  window.addEventListener("beforeunload", (event) => {
    if (dirty.size === 0) return;
    event.preventDefault();
    event.returnValue = QUESTION; // older browsers show their own words; the question is asked all the same
  });

  document.addEventListener("click", (event) => {
    if (dirty.size === 0 || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // opens elsewhere
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.target === "_blank" || link.hasAttribute("download")) return;
    const href = link.getAttribute("href");
    if (href.startsWith("#") || href.startsWith("javascript:")) return;
    if (window.confirm(QUESTION)) {
      dirty.clear(); // asked once: the page's beforeunload must not ask again
    } else {
      event.preventDefault();
    }
  });
})();
