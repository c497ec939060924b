from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"
    default = True

    def ready(self) -> None:
        from accounts import caching

        caching.connect()


class StaffAdminConfig(admin_apps.AdminConfig):
    """The admin with our site class: students who are signed in get 403, not a second login form."""

    default = False
    default_site = "accounts.admin_site.StaffAdminSite"
