/* The counting page's opening form (templates/seal/_seal.html): a code scanned (camera or USB
 * scanner) or typed into #opening-scan goes into the next empty opening-code field; Enter in a
 * field moves on instead of sending the form early; the count of codes collected is shown.
 * Without this script the fields are filled by hand and sent as they are. */
(function () {
  "use strict";
  var form = document.getElementById("open-box");
  if (!form) return;
  var scan = document.getElementById("opening-scan");
  var fields = Array.prototype.slice.call(form.querySelectorAll(".opening-code"));
  var counter = document.getElementById("opening-count");
  var threshold = parseInt(form.getAttribute("data-threshold"), 10) || 1;

  function filled() {
    return fields.filter(function (f) { return f.value.trim() !== ""; });
  }
  function show() {
    var k = filled().length;
    if (counter) {
      counter.textContent = (counter.getAttribute("data-template") || "{k} / {t}")
        .replace("{k}", k).replace("{t}", threshold);
    }
  }
  function take() {
    var text = scan.value.trim();
    if (!text) return;
    var known = filled().some(function (f) { return f.value.trim() === text; });
    var empty = fields.filter(function (f) { return f.value.trim() === ""; })[0];
    if (!known && empty) empty.value = text;
    scan.value = "";
    show();
  }
  scan.addEventListener("change", take);
  scan.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); take(); }
  });
  fields.forEach(function (f, i) {
    f.addEventListener("input", show);
    f.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && filled().length < threshold) {
        ev.preventDefault();
        var next = fields[i + 1] || scan;
        next.focus();
      }
    });
  });
  show();
  scan.focus({preventScroll: true});
})();
