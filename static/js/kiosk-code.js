// Kiosk: keep the code field ready for the next voter (focus, upper case as typed).
(function () {
  "use strict";
  // A new voter starts here: nothing of the previous ballot stays in this tablet's storage.
  try {
    var s = window.sessionStorage;
    for (var i = s.length - 1; i >= 0; i -= 1) {
      if ((s.key(i) || "").indexOf("cv-ballot:") === 0) s.removeItem(s.key(i));
    }
  } catch (e) { /* storage disabled: nothing kept either */ }
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
