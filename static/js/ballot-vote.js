// Ballot page: tap a name to strike it out, live "kept N of M", over-votes blocked before review.
// Without this script the page is a plain form and the server checks the same things.
(function () {
  "use strict";
  var form = document.querySelector("form[data-ballot]");
  if (!form) return;
  document.documentElement.classList.add("js");
  var limit = parseInt(form.getAttribute("data-limit"), 10);
  var agree = form.getAttribute("data-agree") === "yes";
  var keptEl = form.querySelector("[data-kept]");
  var tally = form.querySelector("[data-tally]");
  var over = form.querySelector("[data-overvote]");
  var review = form.querySelector("[data-review]");

  function kept() {
    if (agree) return form.querySelectorAll('input[type=radio][value=agree]:checked').length;
    var boxes = form.querySelectorAll(".strike-box");
    var n = 0;
    boxes.forEach(function (b) { if (!b.checked) n += 1; });
    return n;
  }

  function update() {
    form.querySelectorAll(".strike-row").forEach(function (row) {
      var box = row.querySelector(".strike-box");
      row.classList.toggle("struck", box.checked);
      row.setAttribute("aria-pressed", box.checked ? "true" : "false");
    });
    if (!keptEl) return;
    var n = kept();
    keptEl.textContent = String(n);
    var bad = n > limit;
    if (tally) tally.classList.toggle("over", bad);
    if (over) over.classList.toggle("hidden", !bad);
    if (review) review.disabled = bad;
  }

  form.addEventListener("change", update);
  form.addEventListener("submit", function (ev) {
    if (keptEl && kept() > limit) { ev.preventDefault(); update(); if (over) over.scrollIntoView({block: "center"}); }
  });
  update();
})();
