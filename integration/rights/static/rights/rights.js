/*
 * Rechten page, progressive enhancement: a click on a block sends the block's own form with
 * fetch (the CSRF token from that form) and recolours the block in place. Without JavaScript the
 * same form posts and the page reloads. Anything unexpected (403, a login page, no network)
 * falls back to posting the form normally, so the server's own page explains what happened.
 */
(function () {
  "use strict";

  function say(text) {
    var live = document.getElementById("rights-live");
    if (live) { live.textContent = text; }
  }

  function show(button, form, data) {
    var label = button.dataset.describe + ": " + data.state_label;
    button.dataset.state = data.state;
    button.className = "rights-block rights-" + data.state;
    button.textContent = data.state_label;
    button.setAttribute("aria-label", label);
    button.title = label;
    form.querySelector("input[name=turn]").value = data.turn;
    var audit = document.getElementById("rights-audit");
    if (audit && data.audit_html) { audit.outerHTML = data.audit_html; }
    say(label);
  }

  async function toggle(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("rights-toggle")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button");
    var body = new FormData(form);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    button.disabled = true;
    try {
      var response = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": token ? token.value : ""}
      });
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.status === 409 && isJson) {
        say((await response.json()).error);
      } else if (response.ok && isJson) {
        show(button, form, await response.json());
      } else {
        form.submit();
        return;
      }
    } catch (error) {
      form.submit();
      return;
    }
    button.disabled = false;
    button.focus();
  }

  document.addEventListener("submit", toggle);
})();
