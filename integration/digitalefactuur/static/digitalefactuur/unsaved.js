/* Unsaved changes are never silently ignored: once a field of the settings form differs from
 * what the page was loaded with, "Koppeling uitvoeren" and "Voorbeeld" give way to "Opslaan en
 * uitvoeren" and "Opslaan en voorbeeld". Enhancement only: without JavaScript the server
 * refuses a run whose posted options differ from the stored ones, and says why.
 */
(function () {
  "use strict";
  var form = document.getElementById("df-koppeling-form");
  var buttons = document.getElementById("df-run-buttons");
  var unsaved = document.getElementById("df-unsaved");
  if (!form || !buttons || !unsaved) { return; }

  function state() {
    var values = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") { values.push(name + "=" + value); }
    });
    return values.join("&");
  }

  var loaded = state();
  var shownByServer = !unsaved.hidden;

  function update() {
    var changed = shownByServer || state() !== loaded;
    unsaved.hidden = !changed;
    buttons.hidden = changed;
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
