// Every answer to a tap shows in the page's banner (#flash); the page itself always stays.
//
// - A refusal (4xx) carries its message as #flash: swap it even in DEBUG, where django-htmx's
//   helper would otherwise replace the whole page with any 400, 403 or 404.
// - A live push may replace the region holding the button while its request is under way (a
//   下单 empties the cart on every phone). htmx would then look for the answer's targets only
//   inside the detached region; swap the answer against the page instead.
// - A server failure or a lost connection says so, and what to do, instead of nothing.
(function () {
  "use strict";
  var body = document.body;

  function say(text) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    flash.className = "flash is-error";
    flash.setAttribute("role", "alert");
    flash.replaceChildren(document.createElement("p"));
    flash.firstChild.textContent = text;
  }

  function answered(event) {
    var xhr = event.detail.xhr;
    var elt = event.detail.elt;
    var carriesFlash = typeof xhr.response === "string" && xhr.response.indexOf('id="flash"') !== -1;
    if (xhr.status >= 400 && !carriesFlash) {
      event.preventDefault();
      event.stopPropagation();
      console.error("htmx answer", xhr.status, xhr.responseURL);
      say(xhr.status >= 500 ? body.dataset.failed : body.dataset.refused);
      return;
    }
    if (xhr.status >= 400) event.stopPropagation();
    if (!elt.isConnected) {
      event.preventDefault();
      htmx.swap(body, xhr.response, { swapStyle: "none" });
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.dataset.answered) return;
    elt.dataset.answered = "1";
    // On the element itself: its events still fire after a push has taken it off the page.
    elt.addEventListener("htmx:beforeOnLoad", answered);
    elt.addEventListener("htmx:sendError", function () { say(body.dataset.offline); });
    elt.addEventListener("htmx:timeout", function () { say(body.dataset.offline); });
  });
})();
