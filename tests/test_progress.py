"""The progress board: running analyses, then ``done`` for a while, then gone."""

from __future__ import annotations

import time

import pytest

from api.progress import ProgressBoard


def test_an_analysis_is_done_for_a_while_then_forgotten():
    board = ProgressBoard(keep_done_s=0.2)
    with board.track("upload-1", 300) as progress:
        progress.update(120)
        assert board.get("upload-1") == progress and progress.stage == "analyzing"
    assert board.get("upload-1").stage == "done"
    time.sleep(0.3)
    assert board.get("upload-1") is None


def test_a_failed_analysis_is_done_too():
    board = ProgressBoard()
    with pytest.raises(RuntimeError), board.track("upload-2", None):
        raise RuntimeError("worker crashed")
    assert board.get("upload-2").stage == "done"


def test_ids_in_use_and_past_the_limit_run_untracked():
    board = ProgressBoard(limit=1)
    with board.track("first", 10) as first, board.track("first", 10) as again, board.track("other", 10):
        assert board.get("first") is first and again is not first
        assert board.get("other") is None
