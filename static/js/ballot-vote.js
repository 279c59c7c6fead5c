// The kiosk's ballot pages (ballot, review, receipt, problems). Without this script each page is a
// plain form and the server checks everything; with it:
// - tap a name to strike it, a live "kept N of M"; the ballot opens neutral and warns of an
//   over-vote only once the voter changes the count to a wrong one or tries to review it;
// - the strikes are kept in sessionStorage (keyed by the ballot) across Back and a lost
//   connection, and cleared on the receipt, at the kiosk's start page and when the page clears
//   itself after an idle time (with a warning first);
// - a long list gets a name filter and a jump-by-letter index;
// - the forms are sent by the page (fetch): when the network drops, the page says so in
//   Vietnamese, keeps the ballot and tries again; the server answers a repeated cast with the
//   same receipt, so a ballot is never cast twice;
// - the receipt stays until "Xong" (or a long timeout).
(function () {
  "use strict";
  var PREFIX = "cv-ballot:";
  var state = window.__cvBallot || (window.__cvBallot = { timers: [], off: [] });

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function clearAll() {
    var s = store();
    if (!s) return;
    for (var i = s.length - 1; i >= 0; i -= 1) {
      var k = s.key(i);
      if (k && k.indexOf(PREFIX) === 0) s.removeItem(k);
    }
  }

  function later(fn, ms) {
    var t = window.setTimeout(fn, ms);
    state.timers.push(t);
    return t;
  }

  function listen(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    state.off.push(function () { target.removeEventListener(type, fn, opts); });
  }

  function teardown() {
    state.timers.forEach(function (t) { window.clearTimeout(t); window.clearInterval(t); });
    state.off.forEach(function (f) { f(); });
    state.timers = [];
    state.off = [];
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? String(values[k]) : m; });
  }

  // ---- the ballot form: strikes, tally, warnings, saved choice --------------------------------

  function initBallot(form) {
    var limit = parseInt(form.getAttribute("data-limit"), 10);
    var agree = form.getAttribute("data-agree") === "yes";
    var key = PREFIX + form.getAttribute("data-key");
    var keptEl = form.querySelector("[data-kept]");
    var tally = form.querySelector("[data-tally]");
    var more = form.querySelector("[data-more]");
    var over = form.querySelector("[data-overvote]");
    var warned = over && !over.classList.contains("hidden"); // the server refused an over-vote
    var changed = false;

    function kept() {
      if (agree) return form.querySelectorAll("input[type=radio][value=agree]:checked").length;
      var n = 0;
      form.querySelectorAll(".strike-box").forEach(function (b) { if (!b.checked) n += 1; });
      return n;
    }

    function save() {
      var s = store();
      if (!s) return;
      var data = { struck: [], fields: {} };
      form.querySelectorAll(".strike-box:checked").forEach(function (b) { data.struck.push(b.value); });
      form.querySelectorAll("input[type=radio]:checked").forEach(function (r) { data.fields[r.name] = r.value; });
      try { s.setItem(key, JSON.stringify(data)); } catch (e) { /* full or disabled: the form still works */ }
    }

    function restore() {
      var s = store();
      var raw = s && s.getItem(key);
      if (!raw) return;
      var data;
      try { data = JSON.parse(raw); } catch (e) { return; }
      var struck = {};
      (data.struck || []).forEach(function (v) { struck[v] = true; });
      form.querySelectorAll(".strike-box").forEach(function (b) { b.checked = !!struck[b.value]; });
      Object.keys(data.fields || {}).forEach(function (name) {
        form.querySelectorAll("input[type=radio]").forEach(function (r) {
          if (r.name === name) r.checked = r.value === data.fields[name];
        });
      });
    }

    function update() {
      form.querySelectorAll(".strike-row").forEach(function (row) {
        var box = row.querySelector(".strike-box");
        row.classList.toggle("struck", box.checked);
      });
      if (!keptEl) return;
      var n = kept();
      keptEl.textContent = String(n);
      var bad = n > limit;
      var show = bad && (changed || warned);
      if (tally) tally.classList.toggle("over", show);
      if (more) {
        more.textContent = bad ? fill(more.getAttribute("data-template"), { n: n - limit }) : "";
        more.classList.toggle("hidden", !show);
      }
      if (over) over.classList.toggle("hidden", !show);
      if (!bad) warned = false;
    }

    if (form.getAttribute("data-posted") === "yes") save(); // the server's copy of the choice wins
    else restore();
    listen(form, "change", function (ev) {
      if (ev.target.matches && ev.target.matches("[data-filter]")) return;
      changed = true;
      save();
      update();
    });
    form.addEventListener("submit", function (ev) {
      if (keptEl && kept() > limit) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        warned = true;
        update();
        if (over) over.scrollIntoView({ block: "center" });
      }
    });
    update();
    initListTools(form);
  }

  // ---- a long list: filter by name, jump by letter --------------------------------------------

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "d").toLowerCase();
  }

  function initListTools(form) {
    var input = form.querySelector("[data-filter]");
    if (!input) return;
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-names] > li"));
    var count = form.querySelector("[data-filter-count]");
    var empty = form.querySelector("[data-filter-empty]");
    var names = rows.map(function (li) {
      var name = li.getAttribute("data-name") || "";
      return { plain: fold(name).split(/\s+/), exact: name.normalize("NFC").toLowerCase().split(/\s+/) };
    });

    function apply() {
      var raw = input.value.trim().normalize("NFC").toLowerCase();
      var folded = fold(raw);
      var words = (raw === folded ? folded : raw).split(/\s+/).filter(Boolean);
      var useExact = raw !== folded; // typed with diacritics: "Hùng" is not "Hưng"
      var shown = 0;
      rows.forEach(function (li, i) {
        var have = useExact ? names[i].exact : names[i].plain;
        var ok = words.every(function (w) { return have.some(function (h) { return h.indexOf(w) === 0; }); });
        li.classList.toggle("hidden", !ok);
        if (ok) shown += 1;
      });
      if (count) {
        count.textContent = fill(count.getAttribute("data-template"), { shown: shown, total: rows.length });
        count.classList.toggle("hidden", words.length === 0);
      }
      if (empty) empty.classList.toggle("hidden", shown > 0);
    }

    listen(input, "input", apply);
    input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") ev.preventDefault(); });
    form.querySelectorAll("[data-letter]").forEach(function (link) {
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (input.value) { input.value = ""; apply(); }
        var target = document.getElementById("letter-" + link.getAttribute("data-letter"));
        if (!target) return;
        target.scrollIntoView({ block: "start" });
        var focusable = target.querySelector("input");
        if (focusable) focusable.focus({ preventScroll: true });
      });
    });
    apply();
  }

  // ---- sending a form by the page, with retries ----------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function swap(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    teardown();
    document.title = doc.title;
    document.body.className = doc.body.className;
    var nodes = Array.prototype.map.call(doc.body.childNodes, function (n) { return document.importNode(n, true); });
    document.body.replaceChildren.apply(document.body, nodes);
    // Scripts of another page run; this one initialises the new page itself.
    document.body.querySelectorAll("script[src]").forEach(function (old) {
      if (/\/js\/ballot-vote\.js(\?|$)/.test(old.getAttribute("src"))) return;
      var s = document.createElement("script");
      s.src = old.getAttribute("src");
      old.replaceWith(s);
    });
    if (url && url !== location.href) history.replaceState({ cv: true }, "", url);
    history.pushState({ cv: true }, "", location.href);
    window.scrollTo(0, 0);
    init();
    var h = document.querySelector("main h1, main h2");
    if (h) { h.setAttribute("tabindex", "-1"); h.focus({ preventScroll: true }); }
  }

  function initFetch(form) {
    var net = form.querySelector("[data-net]");
    var text = form.querySelector("[data-net-text]");
    var retryBtn = form.querySelector("[data-net-retry]");
    var pending = null; // the body being sent (kept identical across retries)
    var attempt = 0;
    var retryTimer = null;

    function say(kind) {
      if (!net) return;
      net.classList.remove("hidden");
      net.setAttribute("data-state", kind);
      text.textContent = net.getAttribute("data-" + kind) || "";
      if (retryBtn) retryBtn.classList.toggle("hidden", kind === "sending");
    }

    function lock(on) {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = on; });
      state.sending = on;
    }

    function fail(kind) {
      attempt += 1;
      say(kind);
      window.clearTimeout(retryTimer);
      retryTimer = later(send, Math.min(1000 * Math.pow(2, attempt - 1), 10000));
    }

    function send() {
      window.clearTimeout(retryTimer);
      if (!pending) return;
      say("sending");
      var ctrl = "AbortController" in window ? new AbortController() : null;
      var timeout = ctrl ? later(function () { ctrl.abort(); }, 20000) : null;
      fetch(form.action, {
        method: "POST",
        body: pending,
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Accept": "text/html", "X-CSRFToken": csrfToken() },
        signal: ctrl ? ctrl.signal : undefined
      }).then(function (resp) {
        window.clearTimeout(timeout);
        var type = resp.headers.get("Content-Type") || "";
        if (resp.status >= 500 || type.indexOf("text/html") !== 0) { fail("server"); return null; }
        return resp.text().then(function (html) {
          pending = null;
          state.sending = false;
          swap(html, resp.url);
        });
      }, function () {
        window.clearTimeout(timeout);
        fail(navigator.onLine === false ? "offline" : "server");
      });
    }

    form.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented || !window.fetch || !window.FormData || !window.DOMParser) return;
      ev.preventDefault();
      if (pending) return; // already sending this form
      var data = new FormData(form);
      var by = ev.submitter;
      if (by && by.name) data.append(by.name, by.value);
      pending = new URLSearchParams(data);
      attempt = 0;
      lock(true);
      send();
    });
    if (retryBtn) retryBtn.addEventListener("click", function () { attempt = 0; send(); });
    listen(window, "online", function () { if (pending) { attempt = 0; send(); } });
  }

  // ---- idle: clear the page for the next voter, after a warning --------------------------------

  function initIdle() {
    var box = document.querySelector("[data-idle]");
    if (!box) return;
    var idleMs = parseInt(box.getAttribute("data-seconds"), 10) * 1000;
    var warnS = parseInt(box.getAttribute("data-warn"), 10);
    var line = box.querySelector("[data-idle-text]");
    var idleTimer = null;
    var tick = null;

    function leave() {
      if (state.sending) { arm(); return; } // never while a ballot is on its way
      clearAll();
      location.replace(box.getAttribute("data-start"));
    }

    function warn() {
      if (state.sending) { arm(); return; }
      var left = warnS;
      box.classList.remove("hidden");
      var stay = box.querySelector("[data-idle-stay]");
      if (stay) stay.focus({ preventScroll: true });
      var show = function () { line.textContent = fill(line.getAttribute("data-template"), { n: left }); };
      show();
      tick = window.setInterval(function () {
        left -= 1;
        if (left <= 0) { window.clearInterval(tick); leave(); } else show();
      }, 1000);
      state.timers.push(tick);
    }

    function arm() {
      window.clearTimeout(idleTimer);
      window.clearInterval(tick);
      box.classList.add("hidden");
      idleTimer = later(warn, idleMs);
    }

    ["pointerdown", "keydown", "input", "wheel", "touchstart"].forEach(function (type) {
      listen(document, type, function () { if (box.classList.contains("hidden")) arm(); }, { passive: true, capture: true });
    });
    box.querySelector("[data-idle-stay]").addEventListener("click", arm);
    arm();
  }

  // ---- the receipt ------------------------------------------------------------------------

  function initReceipt(section) {
    clearAll();
    var start = section.getAttribute("data-start");
    var after = parseInt(section.getAttribute("data-done-after"), 10);
    if (start && after > 0) later(function () { location.replace(start); }, after * 1000);
    var done = section.querySelector("[data-done]");
    if (done) {
      done.addEventListener("click", function (ev) { ev.preventDefault(); location.replace(start); });
      done.focus({ preventScroll: true });
    }
  }

  function init() {
    document.documentElement.classList.add("js");
    var form = document.querySelector("form[data-ballot]");
    if (form) initBallot(form);
    document.querySelectorAll("form[data-fetch]").forEach(initFetch);
    var receipt = document.querySelector("[data-receipt]");
    if (receipt) initReceipt(receipt);
    if (document.querySelector("[data-problem]")) clearAll();
    initIdle();
  }

  if (!state.started) {
    state.started = true;
    // Back after a step sent by the page: show the ballot again (the strikes come back from
    // sessionStorage); a page from the back/forward cache is shown afresh for the same reason.
    window.addEventListener("popstate", function (ev) {
      if (!state.sending) location.reload();
    });
    window.addEventListener("pageshow", function (ev) { if (ev.persisted) location.reload(); });
  }
  init();
})();
