// The customer screen: keep the orders table's highlighted row on the order shown in the pane
// when htmx swaps the pane in place (the table itself is not re-rendered).
(function () {
  "use strict";
  const table = document.getElementById("orders-table");
  if (!table) return;
  table.addEventListener("click", (event) => {
    const link = event.target.closest("a[hx-get]");
    if (!link) return;
    table.querySelectorAll("tr.selected").forEach((row) => row.classList.remove("selected"));
    link.closest("tr").classList.add("selected");
  });
})();
