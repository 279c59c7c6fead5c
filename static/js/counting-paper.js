// Paper entry page: strike-through feedback and a running count of the names kept.
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-counting-kept]"));
  var out = document.querySelector("[data-counting-kept-count]");
  function update() {
    var n = 0;
    boxes.forEach(function (b) {
      if (b.checked) { n += 1; }
      b.parentNode.classList.toggle("struck", !b.checked);
    });
    if (out) { out.textContent = n + " / " + boxes.length; }
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  if (boxes.length) { update(); }
  var code = document.getElementById("code-input");
  if (code && !code.value) { code.focus(); }
})();
