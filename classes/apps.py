from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "classes"
    verbose_name = "Classes: instructor-led delivery, pacing, live dashboard, gradebook"

    def ready(self) -> None:
        # A sign-in refreshes the cached list of courses the learner takes in a class (see classes.pacing).
        from django.contrib.auth.signals import user_logged_in

        from classes import pacing

        user_logged_in.connect(pacing.refresh_on_login, dispatch_uid="classes.pacing.refresh_on_login")
