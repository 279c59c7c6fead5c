// Check-in desk: post the desk's forms without reloading, show the feedback, update the
// attendance panel and keep the focus in the scan input for the next card. Without this
// script the same forms post normally and the server answers with the page.
(function () {
  "use strict";
  var input = document.getElementById("card-input");
  var feedback = document.getElementById("feedback");
  var undoForm = document.getElementById("undo-form");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  if (!feedback) { return; }

  function show(kind, message) {
    feedback.className = "feedback feedback-" + kind;
    feedback.textContent = message;
  }

  function updatePanel(fig) {
    if (!fig) { return; }
    document.querySelectorAll("[data-fig]").forEach(function (el) {
      var key = el.getAttribute("data-fig");
      if (key === "quorum") {
        el.className = "badge " + (fig.quorum_met ? "badge-ok" : "badge-err");
        el.textContent = fig.quorum_met ? el.dataset.met : el.dataset.notMet;
      } else if (Object.prototype.hasOwnProperty.call(fig, key)) {
        el.textContent = fig[key];
      }
    });
  }

  function updateUndo(last) {
    if (!undoForm) { return; }
    if (last) {
      undoForm.classList.remove("hidden");
      document.getElementById("undo-id").value = last.id;
      document.getElementById("undo-name").textContent = last.full_name;
    } else {
      undoForm.classList.add("hidden");
    }
  }

  // Every search row of this delegate shows their new status at once (checked in from the
  // row, by a scanned card, undone or excused), without reloading the page.
  function updateRows(d) {
    var table = document.querySelector(".results[data-status-labels]");
    if (!table) { return; }
    var labels = JSON.parse(table.getAttribute("data-status-labels"));
    table.querySelectorAll('tr[data-delegate-id="' + d.id + '"]').forEach(function (row) {
      var badge = row.querySelector("[data-status-badge]");
      if (badge) {
        badge.className = "badge badge-" + d.status;
        badge.textContent = labels[d.status] || d.status;
      }
      row.classList.toggle("done", d.status === "present");
      var button = row.querySelector("[data-checkin-row]");
      if (button) { button.classList.toggle("hidden", d.status === "present"); }
    });
  }

  function send(form) {
    var body = new FormData(form);
    return fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": csrf ? csrf.content : ""}
    }).then(function (resp) {
      return resp.json().catch(function () { return {kind: "error", message: "HTTP " + resp.status}; });
    }).then(function (data) {
      var message = data.message || (data.error && data.error.message) || "";
      show(data.kind || "error", message);
      updatePanel(data.attendance);
      if (data.attendance) { updateUndo(data.last); }
      if (data.delegate) { updateRows(data.delegate); }
    }).catch(function () {
      show("error", feedback.dataset.offline || "Network error: try again.");
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-checkin")) { return; }
    ev.preventDefault();
    var isScan = form.id === "scan-form";
    if (isScan && !input.value.trim()) { input.focus(); return; }
    send(form).then(function () {
      if (isScan) { input.value = ""; }
      if (input) { input.focus(); }
    });
  });

  // A USB scanner types fast and ends with Enter; keep the focus where it types.
  if (input) {
    input.focus();
    document.addEventListener("keydown", function (ev) {
      var t = ev.target;
      var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
      if (!typing && ev.key && ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
        input.focus();
      }
    });
  }
})();
