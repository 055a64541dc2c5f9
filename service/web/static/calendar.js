/* The week calendar's drag and drop (engineer W): drag a talk's block onto a free slot and the
   page posts the talk's own "Verzetten" form (/gesprekken/<id>/verzetten) with the new start,
   exactly as the form does, and shows the server's answer: the refusal with the planner's
   reasons, or the week again with the talk at its new time. No inline handlers (the CSP allows
   scripts from /static only); without JavaScript, and with the keyboard, the form does it. */
(function () {
  "use strict";

  var grid = document.querySelector(".g-grid[data-csrf]");
  if (!grid) {
    return;
  }
  var answer = document.getElementById("g-answer");
  var dragged = null;
  var target = null;

  function say(text, problem) {
    if (!answer) {
      return;
    }
    answer.textContent = text;
    answer.className = "g-answer" + (problem ? " g-answer--problem" : "");
  }

  function mark(slot) {
    if (target === slot) {
      return;
    }
    if (target) {
      target.classList.remove("g-grid__slot--drop");
    }
    target = slot;
    if (target) {
      target.classList.add("g-grid__slot--drop");
    }
  }

  function words(node) {
    return node.textContent.replace(/\s+/g, " ").trim();
  }

  function problemIn(html, status) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var parts = [];
    doc.querySelectorAll("main .utrecht-alert, main .app-field-error").forEach(function (node) {
      var pieces = node.querySelectorAll("p, li");
      if (status === 409) {
        pieces = node.querySelectorAll("p strong");
      }
      if (pieces.length === 0) {
        parts.push(words(node));
      }
      pieces.forEach(function (piece) {
        parts.push(words(piece));
      });
    });
    if (status === 409) {
      parts.push("Laad de pagina opnieuw om de actuele stand te zien.");
    }
    return parts.join(" ") || "Het verzetten is niet gelukt.";
  }

  function move(block, start) {
    var when = start.split("T");
    var body = new FormData();
    body.set("csrf_token", grid.getAttribute("data-csrf"));
    body.set("version", block.getAttribute("data-version"));
    body.set("datum", when[0]);
    body.set("tijd", when[1]);
    body.set("lokaal", block.getAttribute("data-room") || "");
    body.set("reden", "Verplaatst in de weekkalender van de school.");
    say("Bezig met verzetten van het gesprek met " + block.getAttribute("data-title") + "…", false);
    fetch(block.getAttribute("data-move"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.text().then(function (html) {
          if (response.ok && response.redirected) {
            window.location.assign(response.url); // the week, with the talk at its new time
          } else {
            say(problemIn(html, response.status), true);
          }
        });
      })
      .catch(function () {
        say("Het verzetten is niet gelukt: geen verbinding met de server. Probeer het opnieuw.", true);
      });
  }

  grid.addEventListener("dragstart", function (event) {
    var block = event.target.closest ? event.target.closest(".g-block[data-move]") : null;
    if (!block) {
      return;
    }
    dragged = block;
    block.classList.add("g-block--dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.getAttribute("data-title") || "");
  });

  grid.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("g-block--dragging");
    }
    dragged = null;
    mark(null);
  });

  grid.addEventListener("dragover", function (event) {
    var slot = event.target.closest ? event.target.closest("td[data-start]") : null;
    if (!dragged || !slot) {
      mark(null);
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    mark(slot);
  });

  grid.addEventListener("drop", function (event) {
    var slot = event.target.closest ? event.target.closest("td[data-start]") : null;
    var block = dragged;
    mark(null);
    if (!block || !slot) {
      return;
    }
    event.preventDefault();
    move(block, slot.getAttribute("data-start"));
  });
})();
