from django.urls import path

from classes import views

app_name = "classes"

urlpatterns = [
    path("", views.class_list, name="list"),
    path("new", views.class_new, name="new"),
    path("join", views.join, name="join"),
    path("join/<str:code>", views.join_link, name="join_link"),
    path("invitations/<int:invitation_id>/<str:answer>", views.invitation_answer, name="invitation_answer"),
    path("<int:class_id>/", views.class_detail, name="detail"),
    path("<int:class_id>/heatmap/<slug:lab>/", views.heatmap, name="heatmap"),
    path("<int:class_id>/gradebook/", views.gradebook, name="gradebook"),
    path("<int:class_id>/gradebook/export", views.gradebook_export, name="export"),
    path("<int:class_id>/gradebook/exports/", views.exports, name="exports"),
    path("<int:class_id>/gradebook/exports/<int:export_id>.csv", views.export_download, name="export_download"),
    path("<int:class_id>/students/<int:user_id>/", views.student, name="student"),
    path("<int:class_id>/students/<int:user_id>/reset/<str:kind>", views.student_reset, name="reset"),
    path("<int:class_id>/pacing", views.pacing, name="pacing"),
    path("<int:class_id>/manage", views.manage, name="manage"),
    path("<int:class_id>/notes/", views.notes, name="notes"),
    path("<int:class_id>/hand", views.hand, name="hand"),
    path("<int:class_id>/hands/<int:hand_id>/resolve", views.hand_resolve, name="hand_resolve"),
    path("attempts/<int:attempt_id>/replay/", views.attempt_replay, name="replay"),
    path("attempts/<int:attempt_id>/replay/runs/<int:run_id>/trace/", views.replay_trace, name="replay_trace"),
]
