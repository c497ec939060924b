import os
from pathlib import Path

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Operations: health and worker heartbeat"

    def ready(self) -> None:
        prepare_local_folders()


def prepare_local_folders() -> None:
    """Make what the embedded defaults need on disk, once per process at start-up (settings import writes nothing).

    VAR_DIR (the SQLite database), the filesystem broker's folders when there is no Redis, STATIC_ROOT (WhiteNoise
    warns when it is missing), and in development the generated secret, kept so sessions survive a restart.
    """
    from django.conf import settings

    folders = [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT)]
    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders += [Path(str(options[key])) for key in ("data_folder_in", "processed_folder", "control_folder")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    if getattr(settings, "DEVELOPMENT_SECRET_GENERATED", False):
        settings.SECRET_KEY = _keep_development_secret(Path(settings.DEVELOPMENT_SECRET_FILE), settings.SECRET_KEY)
        settings.DEVELOPMENT_SECRET_GENERATED = False


def _keep_development_secret(path: Path, generated: str) -> str:
    """Store `generated` in `path` (mode 0600) unless another process got there first; return the key to use."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip() or generated  # the web server and the worker start together: one key
    with os.fdopen(descriptor, "w") as file:
        file.write(generated)
    return generated
