from django.apps import AppConfig


class CoursewareConfig(AppConfig):
    name = "courseware"
    verbose_name = "Courseware: courses, lessons, quizzes, progress"

    def ready(self) -> None:
        from courseware import caching

        caching.connect()
