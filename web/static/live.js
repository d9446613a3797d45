// Live parts of the interface's pages. Every page works without this
// script; with it, an exercise's scoreboard refreshes itself and the
// dashboard shows new objects as they arrive. It only ever inserts what
// the hub rendered for the signed-in user (the scoreboard) or text
// (objects' names), never markup from objects.
"use strict";
(function () {
  // An element with data-live-board="URL" is replaced by the fragment at
  // URL every data-interval seconds, until the fragment says no more.
  function poll(el) {
    var every = (parseInt(el.getAttribute("data-interval"), 10) || 2) * 1000;
    setTimeout(function () {
      fetch(el.getAttribute("data-live-board"), { credentials: "same-origin", cache: "no-store" })
        .then(function (res) { if (!res.ok) { throw new Error(res.status); } return res.text(); })
        .then(function (html) {
          var t = document.createElement("template");
          t.innerHTML = html.trim();
          var next = t.content.firstElementChild;
          if (!next || next.id !== el.id) { return; }
          el.replaceWith(next);
          if (next.hasAttribute("data-live-board")) { poll(next); }
        })
        .catch(function () { setTimeout(function () { poll(el); }, every); });
    }, every);
  }
  document.querySelectorAll("[data-live-board]").forEach(poll);

  // A list with data-live-stream="URL" gets each object the stream at URL
  // sends as a new first item: a link to its page with its type, name
  // and TLP.
  document.querySelectorAll("[data-live-stream]").forEach(function (list) {
    var src = new EventSource(list.getAttribute("data-live-stream"));
    src.addEventListener("open", function () { list.setAttribute("data-connected", "true"); });
    src.addEventListener("object", function (ev) {
      var o = JSON.parse(ev.data);
      var li = document.createElement("li");
      li.className = "live-new";
      var tlp = document.createElement("span");
      tlp.className = "tlp " + o.tlp_class;
      tlp.textContent = o.tlp;
      var a = document.createElement("a");
      a.href = "/objects/" + encodeURIComponent(o.id);
      a.textContent = o.name;
      var type = document.createElement("span");
      type.className = "type";
      type.textContent = " " + o.type + " ";
      li.append(tlp, type, a);
      list.prepend(li);
      var empty = document.getElementById(list.id + "-empty");
      if (empty) { empty.remove(); }
      while (list.children.length > 50) { list.lastElementChild.remove(); }
    });
    src.addEventListener("end", function () { src.close(); });
  });
})();
