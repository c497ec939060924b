"""Kombu's filesystem transport (the broker of `make run`, no Redis) with messages written atomically.

Kombu writes a message by creating its file in the queue folder and then writing the body, and a consumer that lists
the folder in between takes the empty file, fails to decode it and drops it: the lab run it announced waited for
the sweeper (seen now and then in `bench/push_bench.py`). Here the body is written to a file whose name no
queue matches and renamed into place, which is atomic on one filesystem, so a consumer sees a whole message or none.
config/celery.py makes this the transport of `filesystem://` URLs.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):  # type: ignore[misc]
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put `payload` onto `queue`: written under a temporary name, then renamed to kombu's message name."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(self.data_folder_out, f"partial-{uuid.uuid4().hex}")  # matches no queue's ".q.msg"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):  # type: ignore[misc]
    Channel = Channel
