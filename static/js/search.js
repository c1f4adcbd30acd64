// Universal search: ↓ from the box moves to the results (each a plain link), ↑ ↓ move between them,
// Enter opens the one in focus, Escape goes back to the box. Enter in the box submits the form: the
// server opens the one exact hit or lists the results. A list of links, not a listbox of options
// holding links (nested interactive controls confuse screen readers). No inline script: the CSP forbids it.
(function () {
  "use strict";
  const form = document.getElementById("search");
  if (!form) return;
  const box = document.getElementById("q");
  const results = document.getElementById("results");
  const links = () => Array.from(results.querySelectorAll(".hit > a"));

  function focusAt(list, index) {
    const link = list[Math.max(0, Math.min(index, list.length - 1))];
    if (!link) return;
    list.forEach((l) => l.parentElement.classList.toggle("chosen", l === link));
    link.focus();
    link.scrollIntoView({ block: "nearest" });
  }

  box.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      const list = links();
      if (!list.length) return;
      event.preventDefault();
      focusAt(list, 0);
    } else if (event.key === "Escape") {
      box.value = "";
      results.innerHTML = "";
    }
  });

  results.addEventListener("keydown", (event) => {
    const list = links();
    const at = list.indexOf(document.activeElement);
    if (at < 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (event.key === "ArrowUp" && at === 0) {
        list.forEach((l) => l.parentElement.classList.remove("chosen"));
        box.focus();
        return;
      }
      focusAt(list, event.key === "ArrowDown" ? at + 1 : at - 1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      box.focus();
    }
  });
})();
