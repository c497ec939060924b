from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labs"
    verbose_name = "Labs: simulator-backed exercises"

    def ready(self) -> None:
        # Plug into the course loader: lab folders are validated by check_course and stored by load_course.
        from courseware.content import register_lab_validator
        from courseware.services import register_lab_loader
        from labs.content import validate_lab_folder
        from labs.loader import lab_store

        register_lab_validator(validate_lab_folder)
        register_lab_loader(lab_store)
