// A background document's page: ask for its progress every second until it is done (or
// failed), move the bar, then show the download. Without this script the page reloads itself.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-url]");
  if (!box) { return; }
  var labels = JSON.parse(box.getAttribute("data-labels"));
  var bar = box.querySelector("[data-job-progress]");
  var status = box.querySelector("[data-job-status]");
  var download = box.querySelector("[data-job-download]");
  var retry = box.querySelector("[data-job-retry]");
  var error = box.querySelector("[data-job-error]");

  function show(job) {
    bar.value = job.percent;
    bar.textContent = job.percent + "%";
    status.textContent = (labels[job.state] || job.state)
      .replace("{done}", job.done).replace("{total}", job.total);
    download.classList.toggle("hidden", job.state !== "done");
    retry.classList.toggle("hidden", job.state !== "failed" && job.state !== "expired");
    if (error) {
      error.textContent = job.error || "";
      error.classList.toggle("hidden", !job.error);
    }
    return job.state === "queued" || job.state === "running";
  }

  function poll() {
    fetch(box.getAttribute("data-job-url"), {
      credentials: "same-origin", headers: {"Accept": "application/json"}
    }).then(function (resp) { return resp.json(); }).then(function (job) {
      if (show(job)) { setTimeout(poll, 1000); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
