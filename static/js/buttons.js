// Buttons that used inline handlers (forbidden by the Content-Security-Policy):
// data-print prints the page, data-back goes back one page.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print], [data-back]");
    if (!target) return;
    event.preventDefault();
    if (target.hasAttribute("data-print")) window.print();
    else history.back();
  });
})();
