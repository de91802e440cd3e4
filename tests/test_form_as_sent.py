"""``tests/form_as_sent.py``, which the fuzz run's ST201 check uses: a form
is judged by what was sent, against the document's own form schemas."""

from __future__ import annotations

from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from tests.form_as_sent import form_is_valid_as_sent

VIDEO = ("video.mp4", b"\x00\x00\x00 ftypisom", "video/mp4")


def valid(document: dict[str, Any], form: str, fields: list[tuple[str, Any]]) -> bool:
    body, content_type = encode_multipart_formdata(fields)
    return form_is_valid_as_sent(body, content_type, document["components"]["schemas"][form])


@pytest.mark.parametrize(
    "fields",
    [
        # Generated as the integer 12345678, sent as the text of a valid id.
        [("video", VIDEO), ("progress_id", "12345678")],
        # Generated as the array [5.0], sent as one field of a valid number.
        [("file", VIDEO), ("sample_fps", "5.0")],
        [("video", VIDEO), ("poses", "false"), ("annotate", "1"), ("smoothing_ms", "")],
        [("video", VIDEO), ("unknown", "anything"), ("unknown", "twice")],
    ],
    ids=["integer-id", "array-number", "text-and-flags", "unknown-name-twice"],
)
def test_a_form_valid_on_the_wire(document: dict[str, Any], fields: list) -> None:
    assert valid(document, "AnalyzeForm", fields)


@pytest.mark.parametrize(
    "fields",
    [
        [("progress_id", "12345678")],  # no video
        [("video", VIDEO), ("file", VIDEO)],  # two videos: oneOf
        [("video", VIDEO), ("progress_id", "short")],
        [("video", VIDEO), ("sample_fps", "0")],  # below the floor
        [("video", VIDEO), ("sample_fps", ".5")],  # not JSON's spelling
        [("video", VIDEO), ("sample_fps", "1"), ("sample_fps", "2")],  # an array on the wire
        [("video", VIDEO), ("annotate", "yes")],
        [("video", "not a file part")],
        [("video", VIDEO), ("progress_id", ("id.txt", b"12345678", "text/plain"))],  # a file
    ],
    ids=[
        "no-video",
        "two-videos",
        "short-id",
        "zero-fps",
        "lax-number",
        "repeated",
        "lax-flag",
        "text-video",
        "file-id",
    ],
)
def test_a_form_invalid_on_the_wire(document: dict[str, Any], fields: list) -> None:
    assert not valid(document, "AnalyzeForm", fields)


def test_both_videos_of_a_comparison_are_required(document: dict[str, Any]) -> None:
    assert valid(document, "CompareForm", [("reference", VIDEO), ("performance", VIDEO), ("sample_fps", "2")])
    assert not valid(document, "CompareForm", [("reference", VIDEO), ("sample_fps", "2")])
    assert not valid(document, "SubmitComparisonForm", [("performance", VIDEO)])
