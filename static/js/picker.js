// After a row of the list is chosen, replaced, kept or removed in place (htmx), put the
// keyboard focus somewhere sensible: on the question when a row would replace a listed one,
// else on the sentence saying what happened (a live region, so it is also announced). Without
// JavaScript the page comes back at #customers, where the list is.
(function () {
  "use strict";

  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail && event.detail.requestConfig;
    var trigger = config && config.elt;
    if (!trigger || !trigger.hasAttribute || !trigger.hasAttribute("data-rows-action")) {
      return;
    }
    var target =
      document.querySelector("#list-rows [data-focus-first]") ||
      document.getElementById("rows-status");
    if (target) {
      target.focus();
    }
  });
})();
