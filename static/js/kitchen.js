// Kitchen screen: ticket ages and colours, one copy of each ticket, and a beep when a dish is
// hurried (live.js shows the connection). Everything else is server-rendered and pushed.
(function () {
  "use strict";
  var socket = document.getElementById("kitchen-socket");
  var soundButton = document.getElementById("sound");
  var audio = null;
  var urges = {};

  // Browsers only play sound after a tap: the cook turns it on once per shift.
  soundButton.addEventListener("click", function () {
    var on = soundButton.getAttribute("aria-pressed") !== "true";
    if (on && !audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    soundButton.textContent = on ? soundButton.dataset.on : soundButton.dataset.off;
  });

  function beep() {
    if (!audio || soundButton.getAttribute("aria-pressed") !== "true") return;
    [0, 0.25].forEach(function (delay) {
      var tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.3;
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + delay);
      tone.stop(audio.currentTime + delay + 0.18);
    });
  }

  // A ticket pushed while the board was being sent on (re)connect can arrive twice: keep the first.
  function dedupe() {
    var seen = {};
    document.querySelectorAll(".ticket").forEach(function (ticket) {
      if (seen[ticket.id]) ticket.remove();
      else seen[ticket.id] = true;
    });
  }

  function watchUrges(initial) {
    var hurried = false;
    document.querySelectorAll(".ticket").forEach(function (ticket) {
      var count = Number(ticket.dataset.urges || 0);
      if (!initial && count > (urges[ticket.id] || 0)) {
        hurried = true;
        ticket.classList.add("just-urged");
      }
      urges[ticket.id] = count;
    });
    if (hurried) beep();
  }

  function ages() {
    var board = document.getElementById("board");
    var warn = Number(board.dataset.warn) * 60, late = Number(board.dataset.late) * 60;
    var now = Date.now() / 1000;
    document.querySelectorAll(".ticket").forEach(function (ticket) {
      // A ticket left only for its voided dishes leaves when they age out (the server's board
      // no longer has it then either); a cook may clear it sooner with its header.
      if (ticket.dataset.clearAt) {
        if (now >= Number(ticket.dataset.clearAt)) ticket.remove();
        return;
      }
      var waited = now - Number(ticket.dataset.created);
      ticket.querySelector(".age").textContent = Math.max(0, Math.floor(waited / 60)) + "′";
      ticket.classList.toggle("is-warn", waited >= warn && waited < late);
      ticket.classList.toggle("is-late", waited >= late);
    });
  }

  var first = true;
  socket.addEventListener("htmx:wsAfterMessage", function () {
    dedupe();
    ages();
    watchUrges(first);
    first = false;
  });
  ages();
  setInterval(ages, 15000);
})();
