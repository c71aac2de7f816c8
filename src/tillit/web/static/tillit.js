// Tillit: small enhancements only; every page works without this file.
// 1. Search as you type: suggestions under inputs with data-suggest (a JSON address).
// 2. PNG download of the charts (drawn from the inline SVG on a canvas).
// 3. A trial page whose evaluation is being computed reloads itself once it is ready.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function suggest(input) {
    var url = input.getAttribute("data-suggest");
    var list = document.createElement("ul");
    list.className = "suggest";
    list.id = input.id + "-forslag";
    list.hidden = true;
    list.setAttribute("aria-label", "Förslag");
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(list);
    input.parentNode.appendChild(status);
    input.setAttribute("aria-controls", list.id);
    var latest = 0;

    function item(kind, items, href, text) {
      if (!items.length) return;
      var head = document.createElement("li");
      head.className = "kind";
      head.textContent = kind;
      list.appendChild(head);
      items.forEach(function (x) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = href(x);
        a.textContent = text(x);
        li.appendChild(a);
        list.appendChild(li);
      });
    }

    var run = debounce(function () {
      var q = input.value.trim();
      var ticket = ++latest;
      if (q.length < 2) { list.hidden = true; list.textContent = ""; status.textContent = ""; return; }
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || ticket !== latest) return;
          list.textContent = "";
          var regions = data.regions || [];
          item("Kommuner", data.municipalities.slice(0, 5), function (m) { return "/kommun/" + m.code; }, function (m) { return m.name; });
          item("Regioner", regions.slice(0, 5), function (m) { return "/region/" + m.code; }, function (m) { return m.name; });
          item("Nyckeltal", data.kpis.slice(0, 5), function (k) { return "/nyckeltal/" + k.kpi; }, function (k) { return k.title; });
          item("Goda exempel", data.examples.slice(0, 5), function (e) { return "/exempel/" + e.id; }, function (e) { return e.title; });
          var n = data.municipalities.length + regions.length + data.kpis.length + data.examples.length;
          list.hidden = n === 0;
          status.textContent = n ? n + " förslag under sökrutan." : "Inga förslag.";
        })
        .catch(function () { list.hidden = true; });
    }, 150);

    input.addEventListener("input", run);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { list.hidden = true; }
      if (e.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("a");
        if (first) { e.preventDefault(); first.focus(); }
      }
    });
    list.addEventListener("keydown", function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var i = links.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
      if (e.key === "Escape") { list.hidden = true; input.focus(); }
    });
    document.addEventListener("click", function (e) {
      if (!input.parentNode.contains(e.target)) list.hidden = true;
    });
  }

  function pngButton(slot) {
    var fig = slot.closest("figure");
    var svg = fig && fig.querySelector(".chart-svg svg");
    if (!svg) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = "bild (PNG)";
    button.addEventListener("click", function () {
      var clone = svg.cloneNode(true);
      var box = svg.viewBox.baseVal;
      var scale = 2;
      clone.setAttribute("width", box.width);
      clone.setAttribute("height", box.height);
      var data = new XMLSerializer().serializeToString(clone);
      var img = new Image();
      img.onload = function () {
        var canvas = document.createElement("canvas");
        canvas.width = box.width * scale;
        canvas.height = box.height * scale;
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          var a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = slot.getAttribute("data-png-name") || "diagram.png";
          document.body.appendChild(a);
          a.click();
          setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        }, "image/png");
      };
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data);
    });
    slot.appendChild(document.createTextNode(", "));
    slot.appendChild(button);
  }

  // Ask the page's JSON twin every few seconds; reload when it is no longer computing.
  // (No meta refresh: it would reload whether or not the result is there, and axe flags it.)
  function poll(box) {
    var url = box.getAttribute("data-poll");
    var wait = (parseInt(box.getAttribute("data-retry"), 10) || 5) * 1000;
    function ask() {
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (data) {
          if (data.status === "computing") setTimeout(ask, wait);
          else window.location.reload();
        })
        .catch(function () { setTimeout(ask, 2 * wait); });
    }
    setTimeout(ask, wait);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), suggest);
    Array.prototype.forEach.call(document.querySelectorAll(".png-slot"), pngButton);
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
  });
})();
