// Live pages: tell the person (and tests) whether the page's socket is connected.
// On every (re)connect the server sends the current state, so a gap heals by itself.
(function () {
  "use strict";
  var socket = document.querySelector("[ws-connect]");
  var banner = document.getElementById("connection");
  if (!socket) return;
  function set(live) {
    document.body.dataset.live = live ? "1" : "0";
    if (banner) {
      banner.textContent = live ? banner.dataset.back : banner.dataset.lost;
      banner.classList.toggle("is-lost", !live);
      banner.hidden = false;
    }
  }
  socket.addEventListener("htmx:wsOpen", function () { set(true); });
  socket.addEventListener("htmx:wsClose", function () { set(false); });
  socket.addEventListener("htmx:wsError", function () { set(false); });
})();
