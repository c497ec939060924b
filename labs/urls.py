from django.urls import path

from labs import views

app_name = "labs"

urlpatterns = [
    path("courses/<slug:course>/labs/<slug:lab>/", views.lab_page, name="lab"),
    path("courses/<slug:course>/labs/<slug:lab>/start", views.lab_start, name="start"),
    path("labs/attempts/<int:attempt_id>/console", views.console_submit, name="console"),
    path("labs/attempts/<int:attempt_id>/check", views.check_submit, name="check"),
    path("labs/attempts/<int:attempt_id>/hint", views.hint_reveal, name="hint"),
    path("labs/attempts/<int:attempt_id>/azman", views.azman_submit, name="azman"),
    path("labs/attempts/<int:attempt_id>/reset", views.attempt_reset, name="reset"),
    path("labs/attempts/<int:attempt_id>/panels", views.attempt_panels, name="panels"),
    path("labs/attempts/<int:attempt_id>/compare/", views.compare, name="compare"),
    path("labs/runs/<int:run_id>/", views.run_status, name="run"),
    path("labs/runs/<int:run_id>/trace/", views.run_trace, name="trace"),
]
