/* Projector screen (and the console's live preview of it): poll the public screen.json every 2 s
   and swap the content when it changes; no full reload. The turnout bar width is set here (CSP
   forbids style attributes). A result longer than the screen is cut into pages of what fits,
   shown in turn (data-page-seconds), elected first as the server orders them. */
(function () {
  "use strict";
  var screens = document.querySelectorAll(".screen[data-src]");
  if (!screens.length) { return; }

  function sizeBars(root) {
    var fills = root.querySelectorAll(".bar-fill");
    for (var i = 0; i < fills.length; i++) {
      var cast = parseInt(fills[i].getAttribute("data-cast"), 10) || 0;
      var issued = parseInt(fills[i].getAttribute("data-issued"), 10) || 0;
      var pct = issued > 0 ? Math.min(100, (100 * cast) / issued) : 0;
      fills[i].style.width = pct.toFixed(1) + "%";
    }
  }

  /* Cut a paged list into pages: every row visible, the rows whose box ends inside the list's
     box are page 1; hide them and measure again for page 2, and so on. */
  function paginate(root) {
    var list = root.querySelector(".scr-list.paged");
    root.__pages = null;
    if (!list) { return; }
    var rows = Array.prototype.slice.call(list.children);
    var pages = [];
    var rest = rows.slice();
    rows.forEach(function (li) { li.classList.remove("off-page"); });
    while (rest.length) {
      var bottom = list.getBoundingClientRect().bottom + 0.5;
      var page = [];
      for (var i = 0; i < rest.length; i++) {
        if (rest[i].getBoundingClientRect().bottom <= bottom) { page.push(rest[i]); } else { break; }
      }
      if (!page.length) { page.push(rest[0]); }  // a row taller than the screen: alone
      pages.push(page);
      page.forEach(function (li) { li.classList.add("off-page"); });
      rest = rest.slice(page.length);
    }
    root.__pages = pages;
    root.__page = -1;
    var of = root.querySelector(".pg-of");
    if (of) { of.textContent = String(pages.length); }
    var label = root.querySelector(".scr-pages");
    if (label) { label.hidden = pages.length < 2; }
    list.setAttribute("data-pages", String(pages.length));
    showPage(root, 0);
  }

  function showPage(root, n) {
    var pages = root.__pages;
    if (!pages || !pages.length) { return; }
    n = n % pages.length;
    if (root.__page >= 0 && pages[root.__page]) {
      pages[root.__page].forEach(function (li) { li.classList.add("off-page"); });
    }
    pages[n].forEach(function (li) { li.classList.remove("off-page"); });
    root.__page = n;
    var list = root.querySelector(".scr-list.paged");
    if (list) { list.setAttribute("data-page", String(n + 1)); }
    var pn = root.querySelector(".pg-n");
    if (pn) { pn.textContent = String(n + 1); }
  }

  function turnPages(root) {
    var list = root.querySelector(".scr-list.paged");
    var seconds = list ? parseFloat(list.getAttribute("data-page-seconds")) || 8 : 8;
    window.clearTimeout(root.__pageTimer);
    root.__pageTimer = window.setTimeout(function () {
      if (root.__pages && root.__pages.length > 1) { showPage(root, root.__page + 1); }
      turnPages(root);
    }, seconds * 1000);
  }

  function render(root) {
    sizeBars(root);
    paginate(root);
    turnPages(root);
  }

  function watch(root) {
    var src = root.getAttribute("data-src");
    var version = root.getAttribute("data-version");
    function tick() {
      fetch(src, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.version && data.version !== version) {
            version = data.version;
            root.setAttribute("data-version", version);
            root.setAttribute("data-state", data.state);
            root.innerHTML = data.html;
            render(root);
          }
        })
        .catch(function () { /* the hall's network blinked: try again on the next tick */ })
        .then(function () { window.setTimeout(tick, 2000); });
    }
    render(root);
    window.setTimeout(tick, 2000);
    var resized = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(resized);
      resized = window.setTimeout(function () { paginate(root); }, 200);
    });
  }

  for (var i = 0; i < screens.length; i++) { watch(screens[i]); }
})();
