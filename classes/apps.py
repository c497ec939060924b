from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "classes"
    verbose_name = "Classes: instructor-led delivery, pacing, live dashboard, gradebook"

    def ready(self) -> None:
        # A sign-in refreshes the cached list of courses the learner takes in a class (see classes.pacing).
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from classes import pacing
        from classes.access import ClassRules
        from classes.models import Membership
        from core import access

        # Who may open what, and who sees whose work: the class rules answer core.access's questions.
        access.register(ClassRules())

        user_logged_in.connect(pacing.refresh_on_login, dispatch_uid="classes.pacing.refresh_on_login")
        # Memberships changed one by one (the admin, a deleted class) refresh it too; bulk adds refresh explicitly.
        post_save.connect(pacing.refresh_on_membership, sender=Membership, dispatch_uid="classes.pacing.save")
        post_delete.connect(pacing.refresh_on_membership, sender=Membership, dispatch_uid="classes.pacing.delete")
        # An invitation sent to an email before its owner signed up waits for the account, then shows on its page.
        from django.conf import settings

        from classes.services import link_invitations_on_signup

        post_save.connect(link_invitations_on_signup, sender=settings.AUTH_USER_MODEL, dispatch_uid="classes.invite")
