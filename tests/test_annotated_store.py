"""The store of annotated videos: real files, real clocks and timers."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from jobs.annotated_store import VIDEO_ID_PATTERN, AnnotatedStore


def source(folder: Path, name: str, size: int = 1000) -> Path:
    """A finished 'render' of ``size`` bytes to add."""
    path = folder / name
    path.write_bytes(b"\0" * size)
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def stored(store: AnnotatedStore) -> set[str]:
    return {path.stem for path in store.directory.glob("*.mp4")}


def test_add_and_find(tmp_path: Path, work: Path) -> None:
    store = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=10_000)
    video_id, ttl = store.add(source(work, "a.mp4"))
    assert ttl == 60
    assert re.fullmatch(VIDEO_ID_PATTERN, video_id)
    found = store.find(video_id)
    assert found is not None
    path, left = found
    assert path.read_bytes() == b"\0" * 1000 and 59 < left <= 60
    assert not (work / "a.mp4").exists(), "the render was copied, not moved"
    assert (store.directory.stat().st_mode & 0o777) == 0o700
    other, _ = store.add(source(work, "b.mp4"))
    assert other != video_id and stored(store) == {video_id, other}


@pytest.mark.parametrize(
    "video_id", ["", "short", "../../etc/passwd", "A" * 23, "A" * 25, "A" * 23 + "/", "A" * 23 + "."]
)
def test_find_refuses_malformed_ids(tmp_path: Path, video_id: str) -> None:
    store = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=10_000)
    assert store.find(video_id) is None


def test_unknown_id_is_not_found(tmp_path: Path) -> None:
    store = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=10_000)
    assert store.find("A" * 24) is None
    assert not store.directory.exists(), "a lookup created the directory"


def test_expired_file_is_deleted_by_the_timer(tmp_path: Path, work: Path) -> None:
    """With no request after it, a file still goes when its time is up."""
    store = AnnotatedStore(tmp_path / "store", ttl_s=0.6, max_files=10, max_bytes=10_000)
    video_id, _ = store.add(source(work, "a.mp4"))
    assert store.find(video_id) is not None
    deadline = time.monotonic() + 5
    while stored(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(store) == set()
    assert store.find(video_id) is None


def test_expired_file_is_refused_before_its_sweep(tmp_path: Path, work: Path) -> None:
    store = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=10_000)
    video_id, _ = store.add(source(work, "a.mp4"))
    past = time.time() - 61
    os.utime(store.directory / f"{video_id}.mp4", (past, past))
    assert store.find(video_id) is None


def test_count_cap_drops_the_oldest(tmp_path: Path, work: Path) -> None:
    store = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=2, max_bytes=10_000)
    ids = []
    for name in "abc":
        ids.append(store.add(source(work, f"{name}.mp4"))[0])
        time.sleep(0.02)  # distinct modification times
    assert stored(store) == set(ids[1:])


def test_byte_cap_drops_the_oldest_but_keeps_the_newest(tmp_path: Path, work: Path) -> None:
    store = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=1500)
    first, _ = store.add(source(work, "a.mp4"))
    time.sleep(0.02)
    second, _ = store.add(source(work, "b.mp4"))
    assert stored(store) == {first, second}  # 1000 bytes besides the newest
    time.sleep(0.02)
    third, _ = store.add(source(work, "c.mp4"))
    assert stored(store) == {second, third}
    time.sleep(0.02)
    big, _ = store.add(source(work, "big.mp4", size=5000))  # larger than the cap on its own
    assert stored(store) == {third, big}


def test_a_new_store_sweeps_what_an_old_one_left(tmp_path: Path, work: Path) -> None:
    old = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=10_000)
    expired, _ = old.add(source(work, "a.mp4"))
    fresh, _ = old.add(source(work, "b.mp4"))
    past = time.time() - 120
    os.utime(old.directory / f"{expired}.mp4", (past, past))
    old.close()
    new = AnnotatedStore(tmp_path / "store", ttl_s=60, max_files=10, max_bytes=10_000)
    assert new.find(fresh) is not None
    assert stored(new) == {fresh}
