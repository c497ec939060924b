// Deep linking: post the signed response back to the LMS at once (the button stays for browsers without JS).
(function () {
  "use strict";
  var form = document.querySelector("form[data-lti-autosubmit]");
  if (form) { form.submit(); }
}());
