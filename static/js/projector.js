/* Projector screen: poll the public screen.json every 2 s and swap the content when it changes.
   No full reload; the turnout bar width is set here (CSP forbids style attributes). */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) { return; }
  var src = root.getAttribute("data-src");
  var version = root.getAttribute("data-version");

  function sizeBars() {
    var fills = root.querySelectorAll(".bar-fill");
    for (var i = 0; i < fills.length; i++) {
      var cast = parseInt(fills[i].getAttribute("data-cast"), 10) || 0;
      var issued = parseInt(fills[i].getAttribute("data-issued"), 10) || 0;
      var pct = issued > 0 ? Math.min(100, (100 * cast) / issued) : 0;
      fills[i].style.width = pct.toFixed(1) + "%";
    }
  }

  function tick() {
    fetch(src, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.version && data.version !== version) {
          version = data.version;
          root.setAttribute("data-version", version);
          root.setAttribute("data-state", data.state);
          root.innerHTML = data.html;
          sizeBars();
        }
      })
      .catch(function () { /* the hall's network blinked: try again on the next tick */ })
      .then(function () { window.setTimeout(tick, 2000); });
  }

  sizeBars();
  window.setTimeout(tick, 2000);
})();
