/* Haven console: keyboard shortcuts and deliberate reveal. The pages work without this file
   (reveal is then a link that reloads the task page with the file shown). */
(function () {
  "use strict";
  var overlay = function () { return document.getElementById("shortcuts"); };

  function toggleOverlay(show) {
    var o = overlay();
    if (!o) return;
    var open = show === undefined ? o.hidden : show;
    o.hidden = !open;
    if (open) { var b = o.querySelector("[data-close]"); if (b) b.focus(); }
  }

  // The Reveal button says what pressing it does next, and whether the file is shown now.
  function labelReveal(img, on) {
    var fig = img.closest("figure");
    var link = fig && fig.querySelector("a.reveal[data-reveal]");
    if (!link) return;
    if (!link.dataset.labelOff) link.dataset.labelOff = link.textContent;
    link.setAttribute("role", "button");
    link.setAttribute("aria-pressed", on ? "true" : "false");
    link.textContent = on ? "Hide (r)" : link.dataset.labelOff;
  }

  function showFull(img, on) {
    if (!img) return;
    labelReveal(img, on);
    if (on) {
      // A fresh URL each time: every reveal is a request, and so an audit record.
      img.src = img.dataset.full + "?t=" + Date.now();
      img.classList.add("revealed");
      img.alt = img.alt.replace(/^Blurred/, "Revealed");
    } else {
      // Hide the sharp picture at once: the browser keeps showing it until the preview loads.
      img.classList.add("masked");
      img.addEventListener("load", function unmask() {
        img.classList.remove("masked");
        img.removeEventListener("load", unmask);
      });
      img.src = img.dataset.preview;
      img.classList.remove("revealed");
      img.alt = img.alt.replace(/^Revealed/, "Blurred");
    }
  }

  function firstImage() { return document.querySelector(".item img[data-full]"); }

  function toggleReveal() {
    var img = firstImage();
    if (img) { showFull(img, !img.classList.contains("revealed")); return; }
    var link = document.querySelector("a.reveal");
    if (link) link.click();
  }

  function pick(name, value) {
    var el = document.querySelector('input[name="' + name + '"][value="' + value + '"]');
    if (el) { el.checked = true; el.focus(); }
  }

  // Recovery codes: copy them, or save them as a .txt made here from the page's own list.
  function recoveryCodeActions() {
    var list = document.getElementById("recovery-codes");
    var bar = document.getElementById("code-actions");
    if (!list || !bar) return;
    var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (c) { return c.textContent.trim(); });
    var text = "Haven recovery codes (each works once)\n" + window.location.host + "\n\n" + codes.join("\n") + "\n";
    var status = document.getElementById("codes-copied");
    bar.hidden = false;
    document.getElementById("copy-codes").addEventListener("click", function () {
      var done = function () { status.textContent = "Copied " + codes.length + " codes."; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { status.textContent = "Copying was refused: select the codes and copy them."; });
      } else {
        status.textContent = "Select the codes and copy them.";
      }
    });
    var save = document.getElementById("download-codes");
    save.addEventListener("click", function () {
      var url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
      var a = document.createElement("a");
      a.href = url;
      a.download = save.dataset.filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      status.textContent = "Saved " + save.dataset.filename + ".";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("a.reveal[data-reveal]").forEach(function (link) {
      var img = link.closest("figure").querySelector("img[data-full]");
      if (!img) return;
      if (img.src.indexOf("/file") !== -1) img.classList.add("revealed");
      labelReveal(img, img.classList.contains("revealed"));
      var timer = null, held = false;
      link.addEventListener("pointerdown", function () {
        held = false;
        timer = setTimeout(function () { held = true; showFull(img, true); }, 250);
      });
      var end = function () {
        clearTimeout(timer);
        if (held) { showFull(img, false); }
      };
      link.addEventListener("pointerup", end);
      link.addEventListener("pointerleave", end);
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (held) { held = false; return; }
        showFull(img, !img.classList.contains("revealed"));
      });
    });
    recoveryCodeActions();
    var help = document.querySelector("a.help-link");
    if (help) help.addEventListener("click", function (ev) { ev.preventDefault(); toggleOverlay(true); });
    var close = document.querySelector("#shortcuts [data-close]");
    if (close) close.addEventListener("click", function () { toggleOverlay(false); });
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target, tag = t && t.tagName;
    var typing = tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && !/^(radio|checkbox|submit|button)$/.test(t.type));
    if (ev.key === "Escape") {
      if (overlay() && !overlay().hidden) { toggleOverlay(false); ev.preventDefault(); return; }
      if (typing) { t.blur(); return; }
    }
    if (typing) return;
    var form = document.getElementById("decide-form");
    var k = ev.key;
    if (k === "?") { toggleOverlay(); ev.preventDefault(); return; }
    if (k === "r") { toggleReveal(); ev.preventDefault(); return; }
    if (!form) return;
    var map = { v: "violation", n: "no_violation", e: "escalate", o: "second_opinion" };
    var classes = { "1": "A1", "2": "A2", "3": "B1", "4": "B2", "0": "not_on_scale" };
    if (map[k]) { pick("decision", map[k]); ev.preventDefault(); }
    else if (classes[k]) { pick("classification", classes[k]); ev.preventDefault(); }
    else if (k === "c") { var c = document.getElementById("category"); if (c) c.focus(); ev.preventDefault(); }
    else if (k === "m") { var n = document.getElementById("note"); if (n) n.focus(); ev.preventDefault(); }
    else if (k === "x") { document.getElementById("submit-next").click(); ev.preventDefault(); }
    else if (k === "s") { document.getElementById("submit").click(); ev.preventDefault(); }
  });
})();
