// Preselect the browser's time zone in the account step's time zone list, for a tenant that
// has none stored yet (the server marks that list with data-prefill-time-zone). Nothing is
// saved until the person saves the form; without JavaScript they pick from the list.
(function () {
  "use strict";

  function prefill(root) {
    var browserZone;
    try {
      browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!browserZone) {
      return;
    }
    root.querySelectorAll("[data-prefill-time-zone]").forEach(function (box) {
      var select = box.querySelector("select");
      if (!select || select.value) {
        return; // already chosen (or typed back after an error): never overwrite it
      }
      var known = Array.prototype.some.call(select.options, function (option) {
        return option.value === browserZone;
      });
      if (!known) {
        return;
      }
      select.value = browserZone;
      var note = box.querySelector("[data-time-zone-note]");
      if (note) {
        note.hidden = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    prefill(document);
  });
  // The step is swapped in by htmx after each save: prefill the new content too.
  document.addEventListener("htmx:afterSettle", function (event) {
    prefill(event.target);
  });
})();
