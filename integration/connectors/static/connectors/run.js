/* A run's progress without full page reloads, and buttons that cannot be pressed twice.
 *
 * Enhancement only: without JavaScript the run page refreshes itself (meta refresh) and a
 * second click on "Koppeling uitvoeren" opens the run already under way (the server decides).
 */
(function () {
  "use strict";

  // Disabled after the browser has taken the submission, so the click itself still counts.
  document.querySelectorAll("form[data-disable-on-submit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });

  var box = document.getElementById("run-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("run-bar");
  var phase = document.getElementById("run-phase");
  var count = document.getElementById("run-count");
  var statusLabel = document.getElementById("run-status");

  var steps = document.getElementById("run-steps");

  function show(progress) {
    if (progress.phase) { phase.textContent = progress.phase; }
    statusLabel.textContent = progress.status_label;
    if (progress.total) {
      bar.max = progress.total;
      bar.value = progress.processed;
    } else {
      bar.removeAttribute("value");  // unknown total: an indeterminate bar
    }
    // The texts come translated from the server, numbers in the reader's format.
    count.textContent = progress.count_text;
    if (steps) {
      steps.textContent = "";
      (progress.steps || []).forEach(function (step) {
        var item = document.createElement("li");
        item.textContent = step;
        steps.appendChild(item);
      });
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.is_open) {
          window.setTimeout(poll, 1000);
        } else {
          // Done: the page itself shows the outcome, the counts and the events.
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
