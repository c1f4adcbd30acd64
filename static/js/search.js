// Universal search: arrow keys move through the results, Enter opens the chosen one.
// Without a chosen result, Enter submits the form normally, and the server opens the
// one exact hit (or shows the full results). No inline script: the page's CSP forbids it.
(function () {
  "use strict";
  const form = document.getElementById("search");
  if (!form) return;
  const box = document.getElementById("q");
  const results = document.getElementById("results");

  const options = () => Array.from(results.querySelectorAll('[role="option"]'));
  const chosen = (opts) => opts.findIndex((o) => o.getAttribute("aria-selected") === "true");
  const typed = () => box.value.trim().replace(/\s+/g, " ");
  const answered = () => {
    const holder = results.querySelector("[data-q]");
    return holder ? holder.dataset.q : null;
  };

  function choose(opts, index) {
    opts.forEach((o, j) => o.setAttribute("aria-selected", j === index ? "true" : "false"));
    if (opts[index]) {
      box.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({ block: "nearest" });
    }
  }

  box.addEventListener("keydown", (event) => {
    const opts = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!opts.length) return;
      event.preventDefault();
      const now = chosen(opts);
      const next = event.key === "ArrowDown" ? Math.min(now + 1, opts.length - 1) : Math.max(now - 1, 0);
      choose(opts, next);
    } else if (event.key === "Enter") {
      const index = chosen(opts);
      // Results still on screen for an older text must not open: submit what is typed now.
      if (index >= 0 && answered() === typed()) {
        event.preventDefault();
        window.location.assign(opts[index].dataset.url);
      }
    } else if (event.key === "Escape") {
      box.value = "";
      results.innerHTML = "";
    }
  });

  // After a swap, keep the screen reader's active result in step.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== results) return;
    const opts = options();
    const index = chosen(opts);
    if (index >= 0) box.setAttribute("aria-activedescendant", opts[index].id);
    else box.removeAttribute("aria-activedescendant");
  });
})();
