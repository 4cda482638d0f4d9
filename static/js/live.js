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

// What a person is typing survives a push. A push replaces a whole region (the waiter's bill,
// the cashier's bill, a dish card) by id; in it, a field someone has typed into or is typing
// into keeps its value, its focus, its caret and any half-typed pinyin (the field itself moves
// into the new region through htmx's hx-preserve), a box they ticked stays ticked and an open
// <details> stays open. Only for the socket's messages: an answer to one's own tap may mean to
// reset its form (a payment taken gets a new key and an empty amount).
(function () {
  "use strict";
  var fromSocket = false;
  var kept = 0;

  document.addEventListener("htmx:wsBeforeMessage", function () {
    fromSocket = true;
    setTimeout(function () { fromSocket = false; });  // a message is swapped synchronously
  });

  // A field's identity across renders: its id, or its form's action and its name.
  function key(field) {
    if (field.id && field.id.indexOf("kept-") !== 0) return "#" + field.id;
    var form = field.form || field.closest("form");
    if (!form || !field.name) return null;
    var k = (form.getAttribute("action") || form.id) + " " + field.name;
    return field.type === "radio" || field.type === "checkbox" ? k + "=" + field.value : k;
  }

  function detailsKey(details) {
    if (details.id) return "#" + details.id;
    var form = details.querySelector("form[action]");
    return form ? form.getAttribute("action") : null;
  }

  function byKey(root, selector, keyOf) {
    var found = {};
    root.querySelectorAll(selector).forEach(function (element) {
      var k = keyOf(element);
      if (k) found[k] = element;
    });
    return found;
  }

  function changed(field) {
    if (field.type === "radio" || field.type === "checkbox") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return field.value !== field.defaultValue;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (!fromSocket) return;
    var target = event.detail.target;
    var fragment = event.detail.fragment;
    var fresh = byKey(fragment, "input, textarea, select", key);
    target.querySelectorAll("input:not([type=hidden]), textarea, select").forEach(function (old) {
      var k = key(old);
      var now = k && fresh[k];
      if (!now || !(changed(old) || old === document.activeElement)) return;
      if (old.type === "radio" || old.type === "checkbox") {
        now.checked = old.checked;
      } else if (old.tagName === "SELECT") {
        Array.prototype.forEach.call(now.options, function (option, i) {
          option.selected = old.options[i] ? old.options[i].selected : false;
        });
      } else {
        old.defaultValue = now.defaultValue;  // an untouched field also shows the new default
        if (!old.id) old.id = "kept-" + ++kept;  // hx-preserve finds the field by its id
        now.id = old.id;
        now.setAttribute("hx-preserve", "");
      }
    });
    var open = byKey(fragment, "details", detailsKey);
    target.querySelectorAll("details[open]").forEach(function (details) {
      var k = detailsKey(details);
      if (k && open[k]) open[k].open = true;
    });
  });

  // A field that moved keeps no borrowed id, so that the next push finds it by its form again.
  document.addEventListener("htmx:wsAfterMessage", function () {
    document.querySelectorAll("[id^='kept-']").forEach(function (field) { field.removeAttribute("id"); });
  });
})();
