// Live pages: tell the person (and tests) whether the page's socket is connected, and keep the
// sequence number each stream has reached (the server's <i class="live-seq"> stamps, which
// replace the page's own, {% live_seq %}, by id).
// Gaps are the server's business: on every (re)connect, and whenever its consumer sees that it
// missed an event, it sends the whole current state, so a dropped push heals by itself.
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
  socket.addEventListener("htmx:wsClose", function () {
    set(false);
    // The server replaced the live region (a diner's visit ended): no reconnect is coming.
    if (banner && !document.body.contains(socket)) banner.hidden = true;
  });
  socket.addEventListener("htmx:wsError", function () { set(false); });
})();
