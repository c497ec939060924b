from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labs"
    verbose_name = "Labs: simulator-backed exercises"

    def ready(self) -> None:
        # Plug into the course loader: lab folders are validated by check_course and stored by load_course.
        from courseware.content import LabHooks, lab_hooks_register
        from labs.content import validate_lab_folder
        from labs.loader import lab_store

        lab_hooks_register(LabHooks(validate=validate_lab_folder, store=lab_store))
