// Quick exit: leave for a neutral site and replace this page in the history,
// so the back button does not return here. Escape pressed twice does the same.
// Without JavaScript the link still works as a plain link.
(function () {
  "use strict";

  function leave(url) {
    window.location.replace(url);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var link = document.querySelector("[data-quick-exit]");
    if (!link) {
      return;
    }

    link.addEventListener("click", function (event) {
      event.preventDefault();
      leave(link.href);
    });

    var lastEscape = 0;
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      var now = Date.now();
      if (now - lastEscape < 1000) {
        leave(link.href);
      }
      lastEscape = now;
    });
  });
})();
