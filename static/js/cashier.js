// Cashier: show the change as the cash tendered is typed, and keep the scanner's box ready
// (a barcode scanner types the table's code and Enter). Everything else is htmx and pushes.
(function () {
  "use strict";
  var find = document.getElementById("find");

  function preview() {
    var form = document.getElementById("take-payment");
    var bill = document.getElementById("bill");
    var out = document.getElementById("change-preview");
    if (!form || !bill || !out) return;
    var cash = form.querySelector("input[name=method][value=cash]");
    var tendered = parseFloat(form.querySelector("input[name=amount]").value);
    var due = parseFloat(bill.dataset.due);
    var change = Math.round((tendered - due) * 100) / 100;
    out.textContent = cash && cash.checked && change > 0 ? out.dataset.label + " ¥" + change.toFixed(2) : "";
  }

  document.body.addEventListener("input", preview);
  document.body.addEventListener("change", preview);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    preview();
    // After finding a bill, the box is emptied for the next scan.
    if (find && event.detail.elt && event.detail.elt.id === "bill-pane") find.value = "";
  });
})();
