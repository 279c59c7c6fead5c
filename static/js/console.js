/* Presidium console: live turnout of open polls (staff JSON every 2.5 s); reload the page when a
   poll changes state elsewhere (another chair, the counting committee signing); confirm buttons. */
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var src = root.getAttribute("data-src");
  var statuses = root.getAttribute("data-statuses") || "";

  function sizeBars() {
    var fills = document.querySelectorAll(".tbar-fill");
    for (var i = 0; i < fills.length; i++) {
      var cast = parseInt(fills[i].getAttribute("data-cast"), 10) || 0;
      var issued = parseInt(fills[i].getAttribute("data-issued"), 10) || 0;
      fills[i].style.width = (issued > 0 ? Math.min(100, (100 * cast) / issued) : 0).toFixed(1) + "%";
    }
  }

  var forms = document.querySelectorAll("form.confirm");
  for (var f = 0; f < forms.length; f++) {
    forms[f].addEventListener("submit", function (ev) {
      if (!window.confirm(this.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  }

  function text(sel, value) {
    var el = document.querySelector(sel);
    if (el) { el.textContent = String(value); }
  }

  function tick() {
    fetch(src, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var now = data.polls.map(function (p) { return p.id + ":" + p.status; }).join(",");
        if (now !== statuses) { window.location.reload(); return; }
        text("#att-present", data.attendance.present);
        text("#att-voters", data.attendance.voters_present);
        data.polls.forEach(function (p) {
          if (!p.turnout) { return; }
          var box = document.querySelector('.turnout[data-poll="' + p.id + '"]');
          if (!box) { return; }
          box.querySelector(".t-cast").textContent = p.turnout.cast;
          box.querySelector(".t-issued").textContent = p.turnout.issued;
          box.querySelector(".t-present").textContent = p.turnout.voters_present;
          var fill = box.querySelector(".tbar-fill");
          fill.setAttribute("data-cast", p.turnout.cast);
          fill.setAttribute("data-issued", p.turnout.issued);
        });
        sizeBars();
      })
      .catch(function () { /* try again on the next tick */ })
      .then(function () { window.setTimeout(tick, 2500); });
  }

  sizeBars();
  window.setTimeout(tick, 2500);
})();
