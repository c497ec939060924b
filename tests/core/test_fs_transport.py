"""The embedded broker (`filesystem://`) writes each message atomically: a consumer never takes a half-written one."""

from __future__ import annotations

import threading
from pathlib import Path
from queue import Empty

from kombu import Connection
from kombu.transport import resolve_transport

from core import fs_transport


def _connection(folder: Path) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    return Connection(transport=fs_transport.Transport, transport_options=options)


def test_filesystem_urls_use_the_atomic_transport() -> None:
    import config.celery  # noqa: F401 - where the alias is set (every process imports it through config)

    assert resolve_transport("filesystem") is fs_transport.Transport


def test_a_message_appears_whole_under_kombus_name_and_nothing_else_is_left(tmp_path: Path) -> None:
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        channel._put("q", {"body": "x" * 10_000})
        files = list(tmp_path.iterdir())
        assert len(files) == 1 and files[0].name.endswith(".q.msg")
        assert channel._get("q") == {"body": "x" * 10_000}
        assert list(tmp_path.iterdir()) == []


def test_a_consumer_racing_a_producer_only_ever_reads_whole_messages(tmp_path: Path) -> None:
    count = 150
    errors: list[BaseException] = []

    def produce() -> None:
        with _connection(tmp_path) as connection:
            for number in range(count):
                connection.default_channel._put("q", {"n": number, "pad": "y" * 400_000})

    producer = threading.Thread(target=produce)
    producer.start()
    received: list[int] = []
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        while len(received) < count and not errors:
            try:
                received.append(channel._get("q")["n"])
            except Empty:
                if not producer.is_alive() and len(received) < count and not any(tmp_path.glob("*.msg")):
                    break
            except Exception as exc:  # noqa: BLE001 - a half-written message: the failure this test is about
                errors.append(exc)
    producer.join()
    assert not errors and sorted(received) == list(range(count))
