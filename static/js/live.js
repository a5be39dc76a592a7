// Live updates on a step page (the #live-updates poller, see templates/wizard/step.html): skip
// a poll while this page waits for its own request (a Verify, a Save, a tick). That answer
// brings the fresh page itself, and a poll landing meanwhile would show the person's own
// verification as a colleague's ("already running").
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "live-updates") {
      return;
    }
    if (document.querySelector("#wizard .htmx-request:not(#live-updates)")) {
      event.preventDefault();
    }
  });
})();
