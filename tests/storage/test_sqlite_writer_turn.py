"""SQLite writers take turns on their own lock: threads of one process and processes on
one file wait for the writer before them, and go as soon as it is done."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from fhir_server.storage.sqlite import SQLiteStore, WriterTurn

HOLD_SECONDS = 0.6


def _hold_turn(lock_path: str, held: object, release: object) -> None:
    turn = WriterTurn(lock_path)
    with turn:
        held.set()  # type: ignore[attr-defined]
        release.wait(10)  # type: ignore[attr-defined]
    turn.close()


def test_a_writer_in_another_process_makes_this_one_wait(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    spawn = multiprocessing.get_context("spawn")
    held, release = spawn.Event(), spawn.Event()
    other = spawn.Process(
        target=_hold_turn, args=(str(tmp_path / "t.db.writer-lock"), held, release)
    )
    other.start()
    try:
        assert held.wait(30), "the other process never took its turn"
        threading.Timer(HOLD_SECONDS, release.set).start()
        started = time.perf_counter()
        with store.session(write=True) as session:
            waited = time.perf_counter() - started
            assert session.change_marker() is not None
        assert waited >= HOLD_SECONDS * 0.8, waited
    finally:
        release.set()
        other.join(30)
        store.close()


def test_threads_of_one_process_write_one_at_a_time(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    inside: list[int] = []
    most = [0]

    def write() -> None:
        with store.session(write=True):
            inside.append(1)
            most[0] = max(most[0], len(inside))
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert most[0] == 1


def test_a_failed_write_session_gives_the_turn_back(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    try:
        with store.session(write=True):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    done = threading.Event()

    def write() -> None:
        with store.session(write=True):
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(5)
    store.close()
    assert done.is_set()
