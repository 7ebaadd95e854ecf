"use strict";
// Copy buttons, added here so that the page is complete without JavaScript.
document.querySelectorAll("[data-fp]").forEach(function (el) {
  var b = document.createElement("button");
  b.type = "button";
  b.className = "copy";
  b.textContent = "Copy";
  b.setAttribute("data-copy", el.id);
  b.setAttribute("aria-label", "Copy " + el.id);
  b.addEventListener("click", function () {
    var done = function (ok) {
      b.textContent = ok ? "Copied" : "Select and copy";
      setTimeout(function () { b.textContent = "Copy"; }, 1500);
    };
    var fallback = function () {
      var r = document.createRange();
      r.selectNodeContents(el);
      var s = window.getSelection();
      s.removeAllRanges();
      s.addRange(r);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(el.textContent).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  });
  el.parentNode.appendChild(b);
});
