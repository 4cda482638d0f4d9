// Kitchen screen: ticket ages and one copy of each ticket (live.js shows the connection).
(function () {
  "use strict";
  var socket = document.getElementById("kitchen-socket");

  // A ticket pushed while the board was being sent on (re)connect can arrive twice: keep the first.
  function dedupe() {
    var seen = {};
    document.querySelectorAll(".ticket").forEach(function (ticket) {
      if (seen[ticket.id]) ticket.remove();
      else seen[ticket.id] = true;
    });
  }

  var WARN = 10 * 60, LATE = 20 * 60;  // seconds
  function ages() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".ticket").forEach(function (ticket) {
      var waited = now - Number(ticket.dataset.created);
      var minutes = Math.max(0, Math.floor(waited / 60));
      ticket.querySelector(".age").textContent = minutes + "′";
      ticket.classList.toggle("is-warn", waited >= WARN && waited < LATE);
      ticket.classList.toggle("is-late", waited >= LATE);
    });
  }
  socket.addEventListener("htmx:wsAfterMessage", function () { dedupe(); ages(); });
  ages();
  setInterval(ages, 15000);
})();
