from django.contrib import admin
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("courseware.urls")),
    path("", include("labs.urls")),
    path("classes/", include("classes.urls")),
    path("", include("delivery.urls")),
]
