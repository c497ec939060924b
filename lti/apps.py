from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI 1.3: launches from an LMS, grades and rosters"

    def ready(self) -> None:
        # Grade passback: the lower apps send these signals inside the transaction that records a score.
        from courseware.signals import quiz_submitted
        from labs.signals import lab_check_scored
        from lti import ags

        quiz_submitted.connect(ags.on_quiz_submitted, dispatch_uid="lti.ags.quiz_submitted")
        lab_check_scored.connect(ags.on_lab_check_scored, dispatch_uid="lti.ags.lab_check_scored")
