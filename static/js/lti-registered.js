// LTI Dynamic Registration done: tell the LMS page that opened us to close its dialog (LTI-DR 1.0, 3.6).
(function () {
  "use strict";
  var target = window.opener || window.parent;
  if (target && target !== window) {
    target.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
}());
