"""The contract at its edges: each break that Schemathesis and hand-made
requests found (issue 14), against the session's real gunicorn server.

1. A body is always valid JSON: never NaN or Infinity.
2. A pose is never held longer than the video lasts.
3. A 413 names what was too large.
4. Requests gunicorn refuses before Flask get the JSON envelope too, as the
   document says.
5. The document says that ``POST /analyze`` needs a video.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from flask import Blueprint, Flask, Response, jsonify
from openapi_schema_validator import OAS31Validator

from analyzer.options import MIN_SAMPLE_FPS, AnalysisOptions
from analyzer.pipeline import frame_shares_ms
from server import create_app
from tests.conftest import Server, video
from tests.openapi_check import assert_documented
from tests.test_api import ARM_CIRCLES, assert_error, http, post_video

SMALL = "arm_circles_tpose_portrait_480x848_10fps.mp4"  # 53 frames at 10 fps: 5.3 s


def strict_json(text: str) -> Any:
    """Parse ``text`` as JSON proper: ``NaN``, ``Infinity`` and
    ``-Infinity`` are errors, as in browsers' ``JSON.parse``."""

    def refuse(word: str) -> None:
        raise ValueError(f"{word} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def app() -> Flask:
    """The app in this process (its landmark workers never start here)."""
    return create_app()


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/openapi.json").get_json()


# ------------------------------------------------- 1. never NaN or Infinity


def test_a_non_finite_number_is_the_500_envelope_not_a_body() -> None:
    """A view that would write NaN or Infinity answers the logged 500
    envelope: the serializer refuses (``allow_nan=False``), it does not write
    the bare words or turn them into strings."""
    app = create_app()
    broken = Blueprint("non_finite", __name__)

    @broken.get("/non-finite/<kind>")
    def non_finite(kind: str) -> Response:
        return jsonify({"duration_s": float(kind)})

    app.register_blueprint(broken)
    client = app.test_client()
    for kind in ("nan", "inf", "-inf"):
        response = client.get(f"/non-finite/{kind}")
        assert response.status_code == 500, response.text
        assert strict_json(response.text) == {
            "error": {"code": "internal", "message": "internal server error"}
        }
    assert strict_json(client.get("/non-finite/1.5").text) == {"duration_s": 1.5}


def test_sample_fps_below_its_floor_is_refused(server: Server, document: dict[str, Any]) -> None:
    """``5e-324`` made the frame interval infinite and the durations
    Infinity and NaN; the schema and the server now stop at ``MIN_SAMPLE_FPS``."""
    form = document["components"]["schemas"]["AnalyzeForm"]["properties"]["sample_fps"]
    assert form["anyOf"][0]["minimum"] == MIN_SAMPLE_FPS == 0.001
    query = document["paths"]["/analyze"]["post"]["parameters"]
    schema = next(p for p in query if p["name"] == "sample_fps")["schema"]
    assert schema["anyOf"][0] == {"type": "number", "minimum": MIN_SAMPLE_FPS}
    for value in ("5e-324", "1e-306", "0.000999"):
        error = assert_error(
            post_video(server.url, video(SMALL), params={"sample_fps": value}), 400, "bad_parameter"
        )
        assert "sample_fps" in error["message"] and "0.001" in error["message"], error
    with pytest.raises(ValueError, match="at least 0.001"):
        AnalysisOptions(sample_fps=5e-324)


def test_an_invalid_form_field_is_refused_under_a_valid_query_parameter(server: Server) -> None:
    """Found by the stateful phase: a form field of ``smoothing_ms=-1``
    under a query parameter of the same name passed, since the query wins;
    every field is now checked where it is sent, then the query wins."""
    response = post_video(
        server.url, video(SMALL), params={"smoothing_ms": "50"}, data={"smoothing_ms": "-1"}
    )
    error = assert_error(response, 400, "bad_parameter")
    assert "smoothing_ms" in error["message"] and "-1" in error["message"], error
    both = post_video(
        server.url, video(SMALL), params={"sample_fps": "1"}, data={"sample_fps": "2", "poses": "t_pose"}
    )
    assert both.status_code == 200, both.text
    assert both.json()["processed_frames"] == 6  # 1 per second of 5.3 s: the query's rate
    assert list(both.json()["detected_poses"]) == ["t_pose"]


def test_an_empty_option_is_the_default_as_the_document_says(
    server: Server, document: dict[str, Any]
) -> None:
    """Found by ``make fuzz``: an empty ``progress_id`` (as a blank HTML form
    field sends) was accepted as the default while the document's pattern
    refused it. The document now allows ``""`` for every option, and the
    server still takes it as the default."""
    for parameter in document["paths"]["/analyze"]["post"]["parameters"]:
        assert OAS31Validator(parameter["schema"]).is_valid(""), parameter["name"]
    empty = {"progress_id": "", "smoothing_ms": "", "sample_fps": "", "annotate": ""}
    response = post_video(server.url, video(SMALL), params=empty, data={"min_segment_ms": ""})
    assert response.status_code == 200, response.text
    assert response.json()["processed_frames"] == 53 and "annotated_video" not in response.json()


#: Values pydantic alone took for an option that the document types as a
#: ``number`` or a ``boolean``, where the document refuses the string.
LAX_VALUES = [
    ("sample_fps", " 5"),
    ("sample_fps", "1_0"),
    ("sample_fps", "+5"),
    ("sample_fps", ".5"),
    ("sample_fps", "5."),
    ("sample_fps", "05"),
]


def _video_fields(path: str) -> dict[str, tuple[str, bytes, str]]:
    clip = video(SMALL).read_bytes()
    names = ("reference", "performance") if path == "/compare" else ("video",)
    return {name: ("clip.mp4", clip, "video/mp4") for name in names}


@pytest.mark.parametrize("path", ["/analyze", "/compare"])
@pytest.mark.parametrize(("name", "value"), LAX_VALUES, ids=repr)
def test_an_option_is_read_as_the_document_writes_it(
    server: Server, document: dict[str, Any], path: str, name: str, value: str
) -> None:
    """Found by ``make fuzz`` on ``POST /compare``: a ``sample_fps`` that
    the document refuses got a 200, since pydantic also parses `` 5``,
    ``1_0``, ``+5``, ``.5``, ``5.`` and ``05``. The document's schema
    refuses each of them, and so does the server, as a query parameter and
    as a form field."""
    query = next(p for p in document["paths"][path]["post"]["parameters"] if p["name"] == name)
    assert not OAS31Validator(query["schema"]).is_valid(value)
    for where in ("params", "data"):
        response = http("post", server.url + path, files=_video_fields(path), **{where: {name: value}})
        error = assert_error(response, 400, "bad_parameter")
        assert name in error["message"] and repr(value) in error["message"], error
        assert_documented(document, path, "post", response)


def test_annotate_takes_what_the_document_says(server: Server, document: dict[str, Any]) -> None:
    """``annotate`` is a boolean: ``true`` or ``1`` (``false`` or ``0``);
    pydantic alone also took ``yes``, ``on`` and ``t``. The document says
    the integers 0 and 1 too, which is what ``1`` and ``0`` are in a query
    string (``make fuzz`` sent the integer 1 and got a 202 the document's
    boolean-only schema refused)."""
    for path in ("/analyze", "/analyses"):
        query = next(p for p in document["paths"][path]["post"]["parameters"] if p["name"] == "annotate")
        schema = OAS31Validator(query["schema"])
        assert all(schema.is_valid(value) for value in (True, False, 0, 1, ""))
        assert not any(schema.is_valid(value) for value in (2, "yes", "on", "t", None))
    for value in ("yes", "on", "t", "True"):
        response = post_video(server.url, video(SMALL), params={"annotate": value})
        assert "annotate" in assert_error(response, 400, "bad_parameter")["message"]
    response = post_video(server.url, video(SMALL), params={"annotate": "0", "sample_fps": "1"})
    assert response.status_code == 200 and "annotated_video" not in response.json(), response.text


@pytest.mark.parametrize("path", ["/analyze", "/compare"])
def test_an_option_given_twice_is_refused(server: Server, path: str) -> None:
    """Which of two values would count is a guess: a repeated option is a
    400 naming it, in the query and in the form alike."""
    twice = [("sample_fps", "1"), ("sample_fps", "-1")]
    for where in ("params", "data"):
        response = http("post", server.url + path, files=_video_fields(path), **{where: twice})
        error = assert_error(response, 400, "bad_parameter")
        assert "sample_fps" in error["message"] and "give it once" in error["message"], error
    assert not list(server.upload_dir.iterdir())


@pytest.mark.parametrize("path", ["/analyze", "/analyses", "/compare", "/comparisons"])
def test_a_video_sent_twice_is_refused(server: Server, document: dict[str, Any], path: str) -> None:
    """Found by ``make fuzz`` on ``POST /analyze``: a form with both
    ``video`` and ``file`` got a 200 for ``video``, ``file`` unread. Which
    one counts would be a guess, so two videos where the document takes one
    (``oneOf``) are a 400 naming the field, as a repeated option is."""
    clip = ("clip.mp4", video(SMALL).read_bytes(), "video/mp4")
    if path in ("/analyze", "/analyses"):
        form = document["components"]["schemas"]["AnalyzeForm"]
        assert form["oneOf"] == [{"required": ["video"]}, {"required": ["file"]}]
        field, sent = "video", [[("video", clip), ("file", clip)], [("video", clip), ("video", clip)]]
    else:
        field, sent = "performance", [[("reference", clip), ("performance", clip), ("performance", clip)]]
    for files in sent:
        response = http("post", server.url + path, files=files)
        assert_documented(document, path, "post", response)
        assert assert_error(response, 400, "bad_parameter")["message"].startswith(f"{field}: send one")
    assert not list(server.upload_dir.iterdir())


@pytest.mark.parametrize("path", ["/analyze", "/analyses"])
def test_a_bad_pose_is_refused_under_a_valid_query_parameter(server: Server, path: str) -> None:
    """Found by ``make fuzz`` on ``POST /analyze``: a form field
    ``poses=false`` under a query parameter of registered names got a 200,
    since only the query's value was ever read. Every source's ``poses``
    is now checked as the one that counts is."""
    for poses, code in (("false", "unknown_pose"), ('{"name": "x"}', "invalid_pose_definition")):
        response = http(
            "post",
            server.url + path,
            files=_video_fields(path),
            params={"poses": "t_pose"},
            data={"poses": poses},
        )
        assert_error(response, 400, code)
    assert not list(server.upload_dir.iterdir())


@pytest.mark.parametrize("path", ["/analyze", "/compare"])
def test_an_option_sent_as_a_file_part_is_refused(server: Server, path: str) -> None:
    """Found by ``make fuzz`` on ``POST /analyze``: a form part with a file
    name is a file to the server, not a field, so a ``progress_id`` sent so
    was ignored whatever it held, and a value the document refuses got a
    200. It is now a 400 naming the option."""
    files = {**_video_fields(path), "progress_id": ("id.txt", b"not an id!", "text/plain")}
    error = assert_error(http("post", server.url + path, files=files), 400, "bad_parameter")
    assert "progress_id" in error["message"], error
    assert not list(server.upload_dir.iterdir())


# ------------------------------------------------- 2. durations within the video


def test_a_frame_stands_for_no_time_past_the_end() -> None:
    """Three frames sampled every 2 s of a 5.3 s video: 2 s, 2 s, then the 1.3 s left."""
    shares = frame_shares_ms(np.array([0.0, 2000.0, 4000.0]), 2000.0, 5300.0)
    assert shares.tolist() == pytest.approx([2000.0, 2000.0, 1300.0])
    assert frame_shares_ms(np.array([0.0, 100.0]), 100.0, 200.0).tolist() == [100.0, 100.0]


@pytest.mark.parametrize("sample_fps", ["0.001", "0.3", "2"])
def test_durations_never_pass_the_video_length(server: Server, sample_fps: str) -> None:
    """On the 5.3 s clip, each pose's ``duration_s`` is its sampled frames'
    shares of time, each cut at the video's end, and so never more than the
    video lasts; the body is strict JSON. Before, ``sample_fps=0.001`` gave
    1000 s for every pose seen in the first frame."""
    response = post_video(server.url, video(SMALL), params={"sample_fps": sample_fps})
    assert response.status_code == 200, response.text
    body = strict_json(response.text)
    fps, length_s = body["video"]["fps"], body["video"]["duration_s"]
    assert length_s == pytest.approx(5.3)
    interval_s = 1 / min(float(sample_fps), fps)
    cut = False
    for summary in body["pose_summary"]:
        frames = body["detected_poses"][summary["pose"]]
        shares = [min(interval_s, length_s - index / fps) for index in frames]
        cut |= any(share < interval_s - 1e-9 for share in shares)
        assert summary["duration_s"] == pytest.approx(sum(shares), abs=0.01), summary
        assert 0 <= summary["duration_s"] <= length_s, summary
    assert cut, "no detected frame reached the video's end: the test would not see the cap"
    assert all(math.isfinite(s["duration_s"]) for s in body["pose_summary"])


# ------------------------------------------------- 3. a 413 says what was too large


def test_a_large_form_field_is_not_called_a_large_upload(server: Server, document: dict[str, Any]) -> None:
    """A ``poses`` field of 600 000 bytes (the upload is small) is
    ``form_field_too_large``, naming the field limit, and so are 1001 parts."""
    response = post_video(server.url, video(ARM_CIRCLES), data={"poses": "t_pose," * 100_000})
    error = assert_error(response, 413, "form_field_too_large")
    assert "form field" in error["message"] and "500000 bytes" in error["message"], error
    assert "upload" not in error["message"], error
    assert_documented(document, "/analyze", "post", response)
    boundary = "dancepose-boundary"

    def chunked() -> Iterator[bytes]:
        """The same large field, sent without a Content-Length."""
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="poses"\r\n\r\n'.encode()
        for _ in range(10):
            yield b"t_pose," * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = http("post", server.url + "/analyze", data=chunked(), headers=headers, timeout=30)
    assert_error(response, 413, "form_field_too_large")
    many = {f"field{i}": "x" for i in range(1001)}
    error = assert_error(post_video(server.url, video(ARM_CIRCLES), data=many), 413, "form_field_too_large")
    assert "1000 parts" in error["message"], error
    assert not list(server.upload_dir.iterdir())


# ------------------------------------------------- 4. errors before Flask


def raw_request(server: Server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes and read the whole answer (the server closes the
    connection); returns the status, the headers and the body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_a_long_request_line_is_the_documented_414_envelope(server: Server, document: dict[str, Any]) -> None:
    """A request line past gunicorn's 4094 bytes (a long progress id, a long
    query) is answered by gunicorn, now with the envelope and the status the
    document gives every operation."""
    response = http("get", f"{server.url}/progress/{'a' * 10_000}", timeout=10)
    error = assert_error(response, 414, "uri_too_long")
    assert "4094 bytes" in error["message"], error
    assert_documented(document, "/progress/{progress_id}", "get", response)
    response = http("get", f"{server.url}/health", params={"q": "x" * 5000}, timeout=10)
    assert_error(response, 414, "uri_too_long")
    assert_documented(document, "/health", "get", response)
    assert response.headers["X-Request-ID"]


def test_oversized_headers_are_the_documented_431_envelope(server: Server, document: dict[str, Any]) -> None:
    """A header past 8190 bytes, or more than 100 headers: 431 with the envelope."""
    response = http("get", f"{server.url}/health", headers={"X-Big": "x" * 9000}, timeout=10)
    assert_error(response, 431, "request_header_fields_too_large")
    assert_documented(document, "/health", "get", response)
    many = {f"X-Header-{i}": "1" for i in range(101)}
    assert_error(
        http("get", f"{server.url}/poses", headers=many, timeout=10), 431, "request_header_fields_too_large"
    )


def test_malformed_http_is_the_400_envelope(server: Server) -> None:
    """Bytes that are not an HTTP request get a 400 envelope, not an HTML page."""
    status, headers, body = raw_request(server, b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n")
    assert (status, headers["content-type"]) == (400, "application/json"), body
    error = strict_json(body.decode())["error"]
    assert error["code"] == "bad_request" and "HTTP" in error["message"], error
    status, headers, body = raw_request(server, b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n")
    assert (status, headers["content-type"]) == (400, "application/json"), body
    assert strict_json(body.decode())["error"]["code"] == "bad_request"


# ------------------------------------------------- 5. the document requires a video


def test_the_document_requires_a_video_file(document: dict[str, Any]) -> None:
    """A form without ``video`` or ``file`` is invalid by the document (the
    server answers it 400 ``missing_file``), and both parts are video content."""
    body = document["paths"]["/analyze"]["post"]["requestBody"]
    assert body["required"] is True
    media = body["content"]["multipart/form-data"]
    assert media["encoding"] == {"video": {"contentType": "video/*"}, "file": {"contentType": "video/*"}}
    schema = {**media["schema"], "components": document["components"]}
    validator = OAS31Validator(schema)
    assert not validator.is_valid({"poses": "t_pose"})
    assert validator.is_valid({"video": "<bytes>"}) and validator.is_valid(
        {"file": "<bytes>", "poses": "t_pose"}
    )
    form = document["components"]["schemas"]["AnalyzeForm"]["properties"]
    assert form["video"]["contentMediaType"] == form["file"]["contentMediaType"] == "video/*"


def test_an_analysis_links_to_its_progress_and_annotated_video(document: dict[str, Any]) -> None:
    """The links that let a client (or a fuzzer's stateful phase) go on from an analysis."""
    links = document["paths"]["/analyze"]["post"]["responses"]["200"]["links"]
    operations = {
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    }
    assert {link["operationId"] for link in links.values()} == {"progress", "annotated_video"} <= operations
    assert links["annotated_video"]["parameters"] == {"video_id": "$response.body#/annotated_video/id"}
    assert "id" in document["components"]["schemas"]["AnnotatedVideo"]["required"]
