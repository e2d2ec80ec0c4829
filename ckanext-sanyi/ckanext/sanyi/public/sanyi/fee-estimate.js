/* The application form's fee estimate: asks sanyi_price_quote (GET, public) as the use, the
   billing unit or the quantity changes, and shows the amount in the page's language. Plain
   script (no CKAN module), so it runs whatever CKAN's JavaScript does; without it the form
   still works and the link to the fee calculator stays. */
(function () {
  "use strict";
  var box = document.getElementById("sanyi-fee-estimate");
  if (!box || !window.fetch) { return; }
  var form = box.closest("form");
  var d = box.dataset;
  var timer = null;
  var asked = 0;

  function value(name) {
    var el = form.querySelector("[name=" + name + "]:checked") ||
             form.querySelector("select[name=" + name + "], input[name=" + name + "]:not([type=radio])");
    return el ? String(el.value || "").replace(/[,，\s]/g, "") : "";
  }

  function money(fen) {
    var yuan = Math.floor(fen / 100), cents = String(fen % 100);
    return d.currency + yuan.toLocaleString("en-US") + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  function show(text) { box.textContent = text; }

  function estimate() {
    var use = value("use"), unit = value("billing_unit");
    var quantity = value("quantity") || value("expected_volume");
    if (unit === "month" || unit === "year") { if (!value("quantity")) { show(d.period); return; } }
    if (!use || !/^[0-9]+$/.test(quantity) || quantity === "0") { show(d.waiting); return; }
    var ticket = ++asked;
    var url = d.quoteUrl + "?" + new URLSearchParams({product: d.product, use: use, unit: unit,
                                                      quantity: quantity});
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (res) { return res.json(); })
      .then(function (body) {
        if (ticket !== asked) { return; }
        if (!body.success) {
          var errors = body.error || {}, first = "";
          Object.keys(errors).forEach(function (k) {
            if (k !== "__type" && !first) { first = [].concat(errors[k])[0]; }
          });
          var lang = document.documentElement.lang || "";
          var parts = String(first || "").split(" / ");
          show(d.label + d.sep + (lang.indexOf("en") === 0 && parts[1] ? parts[1] : parts[0]));
          return;
        }
        var r = body.result;
        show(r.free ? d.label + d.sep + d.free
                    : d.label + d.sep + money(r.amount_fen) + d.open + d.note + d.close);
        box.dataset.amountFen = r.free ? "0" : String(r.amount_fen);
      })
      .catch(function () { if (ticket === asked) { show(d.waiting); } });
  }

  function later() { clearTimeout(timer); timer = setTimeout(estimate, 250); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  estimate();
})();
