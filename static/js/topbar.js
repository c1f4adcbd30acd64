// Every page: "/" puts the cursor in the search box (the top bar's, or the search page's own),
// unless the user is already typing somewhere.
(function () {
  "use strict";
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const box = document.getElementById("q") || document.getElementById("topbar-q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
