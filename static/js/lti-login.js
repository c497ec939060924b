// LTI login inside an LMS frame: go on to the platform if our cookies survive here, else offer a new window.
(function () {
  "use strict";
  var root = document.getElementById("lti-login");
  if (!root) { return; }
  var framed;
  try { framed = window.self !== window.top; } catch (e) { framed = true; }

  function cookiesWork() {
    if (!navigator.cookieEnabled) { return false; }
    try {
      var attributes = location.protocol === "https:" ? "; SameSite=None; Secure" : "";
      document.cookie = "lti_probe=1; path=/" + attributes;
      var kept = document.cookie.indexOf("lti_probe=1") !== -1;
      document.cookie = "lti_probe=; path=/; max-age=0" + attributes;
      return kept;
    } catch (e) {
      return false;
    }
  }

  if (!framed || cookiesWork()) {
    window.location.replace(root.getAttribute("data-auth-url"));
  } else {
    document.getElementById("lti-continue").hidden = true;
    document.getElementById("lti-blocked").hidden = false;
  }
}());
