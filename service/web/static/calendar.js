/* The week calendar's drag and drop (engineer W): drag a talk's block onto a free slot and the
   page asks first (a native modal <dialog>: where to, and the reason the parents read in their
   new invitation; Escape or "Annuleren" leaves the talk where it is), then posts the talk's own
   "Verzetten" form (/gesprekken/<id>/verzetten) with the new start and that reason, exactly as
   the form does, and shows the server's answer: the refusal with the planner's reasons, or the
   week again with the talk at its new time. No inline handlers (the CSP allows
   scripts from /static only); without JavaScript, and with the keyboard, the form does it. */
(function () {
  "use strict";

  var grid = document.querySelector(".g-grid[data-csrf]");
  if (!grid) {
    return;
  }
  var answer = document.getElementById("g-answer");
  var dialog = document.getElementById("g-confirm");
  var dragged = null;
  var target = null;
  var pending = null; // {block, start} while the dialog asks
  var DAYS = ["zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"];

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

  function when(start) {
    var parts = start.split("T");
    var ymd = parts[0].split("-");
    var day = new Date(Number(ymd[0]), Number(ymd[1]) - 1, Number(ymd[2]));
    return DAYS[day.getDay()] + " " + ymd[2] + "-" + ymd[1] + "-" + ymd[0] + " om " + parts[1];
  }

  function ask(block, start) {
    if (!dialog || typeof dialog.showModal !== "function") {
      say("Verzetten met slepen kan in deze browser niet; gebruik 'Openen / verzetten'.", true);
      return;
    }
    pending = { block: block, start: start };
    var reason = document.getElementById("g-confirm-reason");
    document.getElementById("g-confirm-what").textContent =
      "Het gesprek met " + (block.getAttribute("data-title") || "") + " naar " + when(start) +
      ". De ouders krijgen een nieuwe uitnodiging.";
    reason.value = "";
    showError(false);
    dialog.returnValue = "";
    dialog.showModal();
    reason.focus();
  }

  function showError(shown) {
    var error = document.getElementById("g-confirm-error");
    var reason = document.getElementById("g-confirm-reason");
    error.hidden = !shown;
    if (shown) {
      reason.setAttribute("aria-invalid", "true");
      reason.setAttribute("aria-describedby", "g-confirm-hint g-confirm-error");
    } else {
      reason.removeAttribute("aria-invalid");
      reason.setAttribute("aria-describedby", "g-confirm-hint");
    }
  }

  if (dialog) {
    dialog.querySelector("form").addEventListener("submit", function (event) {
      var button = event.submitter;
      var reason = document.getElementById("g-confirm-reason").value.trim();
      if (button && button.value === "verzetten" && !reason) {
        event.preventDefault(); // the dialog stays open, the reason asked for
        showError(true);
        document.getElementById("g-confirm-reason").focus();
      }
    });
    dialog.addEventListener("close", function () {
      var asked = pending;
      pending = null;
      if (!asked) {
        return;
      }
      var reason = document.getElementById("g-confirm-reason").value.trim();
      if (dialog.returnValue === "verzetten" && reason) {
        move(asked.block, asked.start, reason);
      } else {
        say("Niet verzet: het gesprek met " + asked.block.getAttribute("data-title") +
          " blijft staan.", false);
        asked.block.focus();
      }
    });
  }

  function move(block, start, reason) {
    var when = start.split("T");
    var body = new FormData();
    body.set("csrf_token", grid.getAttribute("data-csrf"));
    body.set("version", block.getAttribute("data-version"));
    body.set("datum", when[0]);
    body.set("tijd", when[1]);
    body.set("lokaal", block.getAttribute("data-room") || "");
    body.set("reden", reason);
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
    ask(block, slot.getAttribute("data-start"));
  });
})();
