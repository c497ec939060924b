from django.urls import path

from delivery import views

app_name = "delivery"

urlpatterns = [
    path("courses/<slug:course>/lessons/<slug:lesson>/present/", views.present, name="present"),
    path("courses/<slug:course>/lessons/<slug:lesson>/presenter/", views.presenter, name="presenter"),
    path("courses/<slug:course>/present/traces/<slug:path>/", views.present_trace, name="present_trace"),
    path("courses/<slug:course>/handbooks/", views.handbooks, name="handbooks"),
    path("courses/<slug:course>/handbooks/<slug:kind>/build", views.handbook_build, name="handbook_build"),
    path("courses/<slug:course>/handbooks/<slug:kind>.pdf", views.handbook_download, name="handbook_download"),
]
