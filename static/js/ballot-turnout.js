// Poll page: live turnout (counts only) refreshed every few seconds while the poll is open.
(function () {
  "use strict";
  var box = document.querySelector("[data-turnout]");
  if (!box || box.getAttribute("data-live") !== "yes") return;
  var url = box.getAttribute("data-turnout");
  function refresh() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        Object.keys(data).forEach(function (k) {
          var el = box.querySelector('[data-k="' + k + '"]');
          if (el) el.textContent = String(data[k]);
        });
        if (data.status !== "open") box.setAttribute("data-live", "no");
      })
      .catch(function () {})
      .finally(function () { if (box.getAttribute("data-live") === "yes") setTimeout(refresh, 3000); });
  }
  setTimeout(refresh, 3000);
})();
