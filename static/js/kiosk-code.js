// Kiosk: keep the code field ready for the next voter (focus, upper case as typed).
(function () {
  "use strict";
  var input = document.getElementById("code-input");
  if (!input) return;
  input.value = "";
  input.focus({preventScroll: true});
  input.addEventListener("input", function () {
    var pos = input.selectionStart;
    var up = input.value.toUpperCase();
    if (up !== input.value) { input.value = up; input.setSelectionRange(pos, pos); }
  });
  // A page restored from the back/forward cache must not show the previous voter's code.
  window.addEventListener("pageshow", function (ev) { if (ev.persisted) input.value = ""; });
})();
