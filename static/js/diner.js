// The diner's page: small helpers around what htmx and the live pushes swap.
(function () {
  "use strict";
  var sheet = document.getElementById("cart-sheet");
  var menu = document.querySelector("main.menu");

  // An empty cart closes its sheet (after our own order, or another phone's), so it never
  // covers the tab and its 买单 button.
  if (sheet) {
    new MutationObserver(function () {
      if (sheet.open && !sheet.querySelector(".cart-items li")) sheet.open = false;
    }).observe(sheet, { childList: true, subtree: true });
  }

  function show(link, open) {
    var slot = document.getElementById(link.getAttribute("aria-controls"));
    link.setAttribute("aria-expanded", open ? "true" : "false");
    slot.hidden = !open;
    return slot;
  }

  // A dish's 选规格 opens its options form in the card, fetched on the first tap (the link's
  // page is the fallback before this script runs); a second tap closes it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.choose-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || !window.htmx) return;
    event.preventDefault();
    var slot = show(link, link.getAttribute("aria-expanded") !== "true");
    if (slot.hidden || slot.querySelector("form, .sold-out-badge")) return;
    slot.textContent = menu ? menu.dataset.loading : "";
    function came() {  // if the form did not come (no network, a refusal): closed, asked again next tap
      if (slot.querySelector("form, .sold-out-badge")) return;
      slot.textContent = "";
      show(link, false);
    }
    htmx.ajax("GET", link.getAttribute("href"), { target: slot, swap: "innerHTML" }).then(came, came);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var choose = elt.closest && elt.closest(".choose[id]");
    if (!choose) return;
    // A dish added with its options: the form closes and forgets the choices and the note.
    if (elt.tagName !== "FORM" || event.detail.xhr.status >= 300) return;
    elt.reset();
    show(choose.querySelector("a.choose-link"), false);
  });
})();
