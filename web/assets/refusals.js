/* A callback the server refuses (403: the role may not; 400: a request that does not fit;
   401: the session has ended) says why on the page, not only in the browser's console.
   Dash's renderer posts every callback with fetch: its answers are read here, untouched. */
(function () {
  "use strict";
  var original = window.fetch;
  if (!original || original.pdmRefusals) {
    return;
  }
  var shown = {};

  function box() {
    var found = document.getElementById("callback-refusals");
    if (!found) {
      found = document.createElement("div");
      found.id = "callback-refusals";
      found.className = "position-fixed top-0 start-50 translate-middle-x mt-2";
      found.style.zIndex = "2000";
      found.style.maxWidth = "min(640px, 95vw)";
      found.setAttribute("aria-live", "assertive");
      document.body.appendChild(found);
    }
    return found;
  }

  function show(status, message) {
    if (shown[message]) {
      return; // the same message is on the page already
    }
    var alert = document.createElement("div");
    alert.className =
      "alert shadow-sm alert-dismissible mb-2 callback-refusal " +
      (status === 400 ? "alert-danger" : "alert-warning");
    alert.setAttribute("role", "alert");
    alert.dataset.status = String(status);
    var text = document.createElement("span");
    text.textContent = message;
    alert.appendChild(text);
    if (status === 401) {
      var link = document.createElement("a");
      link.href = "/login?next=" + encodeURIComponent(window.location.pathname);
      link.className = "alert-link ms-2";
      link.textContent = "Sign in";
      alert.appendChild(link);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", "Close");
    alert.appendChild(close);
    function remove() {
      delete shown[message];
      if (alert.parentNode) {
        alert.parentNode.removeChild(alert);
      }
    }
    close.addEventListener("click", remove);
    if (status !== 401) {
      window.setTimeout(remove, 10000);
    }
    shown[message] = true;
    box().appendChild(alert);
  }

  function wording(status, body) {
    if (status === 401) {
      return "Your session has ended (signed out, or signed out elsewhere).";
    }
    var error = body && typeof body.error === "string" ? body.error : "";
    if (status === 403) {
      return error || "Your role may not do this.";
    }
    return "The server refused this request: " + (error || "it does not fit the page") + ".";
  }

  window.fetch = function (resource, init) {
    var answer = original.apply(this, arguments);
    var url = typeof resource === "string" ? resource : (resource && resource.url) || "";
    if (url.indexOf("_dash-update-component") === -1) {
      return answer;
    }
    return answer.then(function (response) {
      var status = response.status;
      if (status === 400 || status === 401 || status === 403) {
        response
          .clone()
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            show(status, wording(status, body));
          });
      }
      return response;
    });
  };
  window.fetch.pdmRefusals = true;
})();
