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
    path("certificates/", views.my_certificates, name="my_certificates"),
    path("certificates/claim", views.certificate_claim, name="certificate_claim"),
    path("certificates/<slug:code>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("verify/<slug:code>/", views.verify, name="verify"),
    path("classes/<int:class_id>/certificates/", views.class_certificates, name="class_certificates"),
    path("classes/<int:class_id>/certificates/issue/<int:user_id>", views.certificate_issue, name="certificate_issue"),
    path(
        "classes/<int:class_id>/certificates/<int:certificate_id>/revoke",
        views.certificate_revoke,
        name="certificate_revoke",
    ),
]
