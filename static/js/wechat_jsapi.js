// WeChat Pay inside WeChat (JSAPI): the server signed getBrandWCPayRequest's parameters; the
// WeChat browser's WeixinJSBridge shows the payment sheet. Paid: back to the bill, where the
// gateway's notification (never this callback) marks the payment paid.
(function () {
  "use strict";
  var box = document.getElementById("jsapi");
  var params = JSON.parse(document.getElementById("jsapi-params").textContent);

  function pay() {
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (answer) {
      var outcome = String((answer && answer.err_msg) || "").split(":")[1] || "fail";
      box.dataset.state = outcome;
      if (outcome === "ok") {
        window.location.href = box.dataset.back;
      } else {
        document.getElementById("jsapi-result").hidden = false;
      }
    });
  }

  function ready() {
    document.getElementById("jsapi-pay").addEventListener("click", pay);
    pay();
  }

  if (typeof window.WeixinJSBridge === "undefined") {
    document.addEventListener("WeixinJSBridgeReady", ready, { once: true });
  } else {
    ready();
  }
})();
