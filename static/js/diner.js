// The diner's page: small helpers around what htmx and the live pushes swap.
(function () {
  "use strict";
  var sheet = document.getElementById("cart-sheet");

  // An empty cart closes its sheet (after our own order, or another phone's), so it never
  // covers the tab and its 买单 button.
  if (sheet) {
    new MutationObserver(function () {
      if (sheet.open && !sheet.querySelector(".cart-items li")) sheet.open = false;
    }).observe(sheet, { childList: true, subtree: true });
  }

  // A dish added with its options: the form closes and forgets the choices and the note.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var choose = form.closest && form.closest("details.choose");
    if (!choose || event.detail.xhr.status >= 300) return;
    form.reset();
    choose.open = false;
  });
})();
