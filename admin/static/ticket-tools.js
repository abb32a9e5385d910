// Ticket page: remember where the cursor is in the reply draft, so that
// "Standaardantwoord invoegen" and "Artikel invoegen" put the text there.
// The server counts the offset in characters (code points), so an emoji
// before the cursor counts once. Without JavaScript the field stays empty
// and the server inserts before the sign-off.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var draft = document.querySelector("textarea[data-cursor-field]");
    if (!draft) {
      return;
    }
    var field = document.getElementById(draft.getAttribute("data-cursor-field"));
    if (!field) {
      return;
    }

    function remember() {
      var before = draft.value.slice(0, draft.selectionEnd);
      field.value = String(Array.from(before).length);
    }

    ["focus", "click", "keyup", "input", "select", "mouseup"].forEach(function (name) {
      draft.addEventListener(name, remember);
    });
  });
})();
