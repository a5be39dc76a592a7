// Keep the keyboard focus somewhere sensible when the picker and the list change in place
// (htmx): after a company is opened, on its first Choose button (the link that had the focus
// is gone); after a row is chosen, replaced, kept or removed, on the question when a row would
// replace a listed one, else on the sentence saying what happened (a live region, so it is
// also announced). Without JavaScript the page comes back at #customers, where the list is.
(function () {
  "use strict";

  function triggeredBy(event, attribute) {
    var config = event.detail && event.detail.requestConfig;
    var trigger = config && config.elt;
    return !!(trigger && trigger.hasAttribute && trigger.hasAttribute(attribute));
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = null;
    if (triggeredBy(event, "data-picker-company")) {
      target = document.querySelector("#picker-results button[data-rows-action]");
    } else if (triggeredBy(event, "data-rows-action")) {
      target =
        document.querySelector("#row-question [data-focus-first]") ||
        document.getElementById("rows-status");
    }
    if (target && document.activeElement !== target) {
      target.focus();
    }
  });
})();
