// The completion page's "Print this page" button: shown only where JavaScript can print
// (without it the browser's own Print command does the same, with the same print styles).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  });
})();
