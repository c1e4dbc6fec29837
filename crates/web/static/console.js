// Gatehouse console: copy buttons and the menu on narrow screens. Pages work without this script:
// it reveals the copy buttons (rendered hidden), which copy the text of the element each one names
// in data-copy; and it collapses the site navigation behind a "Menu" button on narrow screens
// (without the script the links stay visible, wrapped).
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var target = document.getElementById(button.getAttribute("data-copy"));
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  var label = button.textContent;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
});

(function () {
  var nav = document.querySelector("nav.site-nav");
  var toggle = nav && nav.querySelector("button.nav-toggle");
  if (!toggle) return;
  nav.classList.add("collapsible");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
  });
})();
