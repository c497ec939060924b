from django.urls import path

from courseware import views

app_name = "courseware"

urlpatterns = [
    path("courses/", views.catalog, name="catalog"),
    path("courses/<slug:course>/", views.outline, name="outline"),
    path("courses/<slug:course>/lessons/<slug:lesson>/", views.lesson, name="lesson"),
    path("courses/<slug:course>/lessons/<slug:lesson>/complete", views.lesson_complete, name="lesson_complete"),
    path("courses/<slug:course>/quizzes/<slug:quiz>/", views.quiz, name="quiz"),
    path("courses/<slug:course>/quizzes/<slug:quiz>/start", views.quiz_start, name="quiz_start"),
    path(
        "courses/<slug:course>/quizzes/<slug:quiz>/attempts/<int:attempt_id>/submit",
        views.quiz_submit,
        name="quiz_submit",
    ),
    path("courses/<slug:course>/glossary/", views.glossary, name="glossary"),
    path("courses/<slug:course>/instructor/", views.instructor, name="instructor"),
    path("courses/<slug:course>/images/<path:path>", views.image, name="image"),
    path("progress/", views.my_progress, name="my_progress"),
]
