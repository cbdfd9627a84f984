// Keyboard use of the calendar (every block is a link, so Tab and Enter work without this):
//   n / p: next / previous day or week;  t: today;  d / w: day or week view;
//   arrow keys on a block: up and down within a column, left and right to the next column.
(function () {
  const cal = document.querySelector("[data-calendar]");
  if (!cal) return;
  const links = { n: cal.dataset.next, p: cal.dataset.prev, t: cal.dataset.today, d: cal.dataset.day, w: cal.dataset.week };
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (target.closest && target.closest("input, select, textarea")) return;
    if (links[event.key]) { window.location.href = links[event.key]; return; }
    if (!target.classList || !target.classList.contains("cal-block")) return;
    const column = target.closest("[data-col]");
    if (!column) return;
    let next = null;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const blocks = Array.from(column.querySelectorAll(".cal-block"));
      next = blocks[blocks.indexOf(target) + (event.key === "ArrowDown" ? 1 : -1)];
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const columns = Array.from(cal.querySelectorAll("[data-col]"));
      let index = columns.indexOf(column);
      const step = event.key === "ArrowRight" ? 1 : -1;
      for (index += step; index >= 0 && index < columns.length && !next; index += step) {
        next = columns[index].querySelector(".cal-block");
      }
    }
    if (next) { next.focus(); event.preventDefault(); }
  });
})();
