"""The JSON contract as pydantic models: what requests may carry and what
every response looks like. ``api.openapi`` turns them into the OpenAPI
document; ``api.params`` validates requests with them; the tests check real
responses against the document. Response models forbid unknown fields, so a
field added to a response without its model fails the tests.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator
from spectree.model_adapter.pydantic_adapter import BaseFile

from analyzer.options import MIN_SAMPLE_FPS
from jobs.annotated_store import VIDEO_ID_PATTERN
from jobs.records import JOB_ID_PATTERN

#: A client-chosen id under which ``GET /progress/{progress_id}`` reports an analysis.
PROGRESS_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"

#: An Idempotency-Key: printable ASCII.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"

#: A number as JSON, and so the document's ``number``, writes it (RFC 8259,
#: section 6). Python's and pydantic's own parsing also take `` 5``, ``1_0``,
#: ``+5``, ``.5`` and ``5.``, which the document refuses: found by ``make fuzz``.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")

#: The strings a boolean option takes (besides ``""``, the default).
_FLAGS = {"true": True, "false": False, "1": True, "0": False}


def _as_number(value: Any) -> Any:
    """A request field of a ``number`` option, unchanged if it is written
    as JSON writes a number (or is not a string).

    Raises:
        ValueError: any other string.
    """
    if isinstance(value, str) and not _JSON_NUMBER.fullmatch(value):
        raise ValueError("must be a number written as in JSON, such as 50 or 0.5")
    return value


def _as_flag(value: Any) -> Any:
    """A request field of a ``boolean`` option as a bool: ``true`` or
    ``1``, ``false`` or ``0``; pydantic alone also takes ``yes``, ``on``,
    ``t``... which the document does not.

    Raises:
        ValueError: any other string.
    """
    if isinstance(value, str):
        if value not in _FLAGS:
            raise ValueError("must be true, false, 1 or 0")
        return _FLAGS[value]
    return value


#: A ``boolean`` option (query parameter or form field): documented as a
#: boolean or the integers 0 and 1, which is what ``true``/``false``/``1``/``0``
#: are in a query string or a form (``make fuzz`` sent the integer 1, which a
#: boolean-only schema refuses and the server takes).
Flag = Annotated[
    bool,
    BeforeValidator(_as_flag),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}]}),
]
#: A duration option, in ms.
NonNegativeMs = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_as_number)]
#: ``sample_fps``: frames per second, at least ``MIN_SAMPLE_FPS``.
SampleFps = Annotated[float, Field(ge=MIN_SAMPLE_FPS, allow_inf_nan=False), BeforeValidator(_as_number)]


def _omittable(schema: dict[str, Any]) -> None:
    """JSON schema of a model whose ``None``-default fields may be left out
    but are never ``null``: drop their ``null`` branch and their default."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]
            branches = [branch for branch in prop.pop("anyOf", []) if branch != {"type": "null"}]
            if len(branches) == 1:
                prop.update(branches[0])
            elif branches:
                prop["anyOf"] = branches


#: Schema keywords that describe an option rather than constrain its value.
_ANNOTATIONS = ("title", "description", "examples", "default")


def _options(schema: dict[str, Any]) -> None:
    """JSON schema of ``AnalyzeOptions``: as ``_omittable``, and an empty
    value, which a blank HTML form field sends and which means the default,
    is valid for every option (a string without a pattern already allows it)."""
    _omittable(schema)
    for name, prop in schema["properties"].items():
        if name in ("video", "file") or (prop.get("type") == "string" and "pattern" not in prop):
            continue
        value = {key: prop.pop(key) for key in list(prop) if key not in _ANNOTATIONS}
        prop["anyOf"] = [*value.get("anyOf", [value]), {"const": ""}]


class RequestOptions(BaseModel):
    """What the options of every endpoint that takes a video share: query
    parameters or form fields, where an empty value means the default, and
    ``include`` takes only ``frames``."""

    model_config = ConfigDict(json_schema_extra=_options)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("include", check_fields=False)
    @classmethod
    def _only_frames(cls, value: str | None) -> str | None:
        if value is not None and {part.strip() for part in value.split(",") if part.strip()} - {"frames"}:
            raise ValueError("include accepts only 'frames'")
        return value


class AnalyzeOptions(RequestOptions):
    """Options of ``POST /analyze``, as query parameters or as form fields
    next to the file (a query parameter wins over a form field of the same
    name, and both are checked). An empty value means the default."""

    poses: str | None = Field(
        default=None,
        description="Comma-separated pose names to detect (default: every pose of `GET /poses`), "
        "or JSON when it starts with `[` or `{`: one pose definition, or an array of pose names "
        "and definitions (see `definition_schema` of `GET /poses`). An unknown name is a 400 "
        "`unknown_pose` that lists the valid ones; a wrong definition a 400 `invalid_pose_definition`.",
        examples=["t_pose,arms_up"],
    )
    include: str | None = Field(
        default=None,
        description="`frames` adds `frames`: per frame its index, timestamp, 33 landmarks, "
        "33 world landmarks (metres) and each detector's score.",
        examples=["frames"],
    )
    smoothing_ms: NonNegativeMs | None = Field(
        default=None, description="Width of the centred window that averages scores, in ms (default 50)."
    )
    min_segment_ms: NonNegativeMs | None = Field(
        default=None, description="Shortest run of frames reported as a segment, in ms (default 100)."
    )
    sample_fps: SampleFps | None = Field(
        default=None,
        description="Analyze at most this many frames per second (default: every frame, "
        f"or the server's `SAMPLE_FPS`). At least {MIN_SAMPLE_FPS:g}, one frame per "
        f"{1 / MIN_SAMPLE_FPS:g} s: a slower rate would analyze only the first frame of any video "
        "the service accepts.",
    )
    annotate: Flag = Field(
        default=False,
        description="`1` or `true`: also render an H.264 MP4 with the skeleton and the current "
        "poses drawn on every frame; the response's `annotated_video.url` serves it for a limited time.",
    )
    progress_id: str | None = Field(
        default=None,
        pattern=PROGRESS_ID_PATTERN,
        description="A random id chosen by the client (8-64 characters of `A-Z a-z 0-9 _ -`); "
        "while the analysis runs, `GET /progress/{progress_id}` reports how far it is.",
    )

    @field_validator("annotate", mode="before")
    @classmethod
    def _no_annotate(cls, value: Any) -> Any:
        return False if value is None or value == "" else value


#: Media type of the file parts of ``POST /analyze`` (any video container;
#: the content is what counts, ``api.routes.analyze``).
VIDEO_MEDIA_TYPE = "video/*"


def _video_required(schema: dict[str, Any]) -> None:
    """JSON schema of ``AnalyzeForm``: as ``_options``, and the file is
    required under exactly one of its two names, as video content."""
    _options(schema)
    schema["oneOf"] = [{"required": ["video"]}, {"required": ["file"]}]
    for name in ("video", "file"):
        schema["properties"][name]["contentMediaType"] = VIDEO_MEDIA_TYPE


class AnalyzeForm(AnalyzeOptions):
    """The ``multipart/form-data`` body of ``POST /analyze``: the video
    (field ``video``, or ``file``: one of them, not both) and, optionally,
    the options as fields."""

    model_config = ConfigDict(json_schema_extra=_video_required)

    video: BaseFile | None = Field(
        default=None,
        description="The video file (MP4, MOV, AVI, MKV, WebM), judged by its content. Required, "
        "here or as `file`; without it: 400 `missing_file`; in both: 400 `bad_parameter`.",
    )
    file: BaseFile | None = Field(
        default=None, description="Another name for `video` (one of the two is required, not both)."
    )


class StrictModel(BaseModel):
    """Base of response models: unknown fields are an error (so a field added
    to a response without its model fails the tests), and a field with a
    ``None`` default may be left out but is never ``null``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_omittable)


class ErrorBody(StrictModel):
    """What went wrong, for programs (``code``) and people (``message``)."""

    code: str = Field(description="Stable machine-readable code, e.g. `not_a_video`.")
    message: str = Field(description="Human-readable explanation; never a stack trace.")


class ErrorResponse(StrictModel):
    """The one error envelope of every endpoint."""

    error: ErrorBody


class HealthResponse(StrictModel):
    """Liveness: the process answers."""

    status: str = Field(description="Always `ok`.", examples=["ok"])


class VideoInfo(StrictModel):
    """The analyzed video."""

    filename: str = Field(description="The client's file name, for display only.")
    width: int = Field(gt=0, description="Upright frame width in pixels.")
    height: int = Field(gt=0, description="Upright frame height in pixels.")
    fps: float = Field(gt=0, description="Frame rate used for timestamps.")
    frame_count: int = Field(ge=0, description="Frames actually decoded.")
    duration_s: float = Field(ge=0, description="`frame_count / fps`, in seconds.")


class ModelInfo(StrictModel):
    """The pose model the landmarks come from."""

    name: str = Field(examples=["pose_landmarker_full"])
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class PoseSummary(StrictModel):
    """How much of the video a pose was held."""

    pose: str
    frames_detected: int = Field(ge=0)
    duration_s: float = Field(
        ge=0,
        description="Seconds the pose was held: each detected frame stands for one frame, or "
        "`1 / sample_fps` s with sampling, never past the video's end.",
    )
    ratio: float = Field(ge=0, le=1, description="`frames_detected / processed_frames`.")


class Segment(StrictModel):
    """A run of frames in which a pose is held (at least `min_segment_ms` long)."""

    pose: str
    start_frame: int = Field(ge=0, description="First frame index, inclusive.")
    end_frame: int = Field(ge=0, description="Last frame index, inclusive.")
    start_ms: int = Field(ge=0, description="Timestamp of `start_frame`, in ms.")
    end_ms: int = Field(ge=0, description="Timestamp of `end_frame`, in ms.")


Landmark = Annotated[
    list[float],
    Field(
        min_length=4,
        max_length=4,
        description="`[x, y, z, visibility]`: x and y normalized to [0, 1] of the frame's width "
        "and height (slightly outside when a joint is out of frame), z in x's scale, visibility in [0, 1].",
    ),
]

WorldLandmark = Annotated[
    list[float],
    Field(
        min_length=3,
        max_length=3,
        description="`[x, y, z]` in metres, origin at the midpoint of the hips: x to the image's right, "
        "y down, z away from the camera (MediaPipe's world landmarks; the depth is the model's estimate).",
    ),
]


class FrameDetail(StrictModel):
    """One analyzed frame (``include=frames``)."""

    frame_index: int = Field(ge=0, description="0-based index in decode order.")
    timestamp_ms: float = Field(ge=0)
    landmarks: Annotated[list[Landmark], Field(min_length=33, max_length=33)] | None = Field(
        description="The 33 BlazePose landmarks in MediaPipe's order, or `null` without a person."
    )
    world_landmarks: Annotated[list[WorldLandmark], Field(min_length=33, max_length=33)] | None = Field(
        description="The same 33 landmarks in 3D, in metres, or `null` without a person."
    )
    scores: dict[str, float | None] = Field(
        description="Each detector's raw score in [0, 1]; `null` where it could not judge."
    )


class AnnotatedVideo(StrictModel):
    """Where to fetch the annotated MP4 (``annotate=1``)."""

    id: str = Field(
        pattern=VIDEO_ID_PATTERN,
        description="The `video_id` of `GET /annotated/{video_id}.mp4`.",
        examples=["Xq3v0cN2mB8wYk1pTzR6aLdE"],
    )
    url: str = Field(
        description="Path of `GET /annotated/{video_id}.mp4`, relative to the service's base URL.",
        examples=["/annotated/Xq3v0cN2mB8wYk1pTzR6aLdE.mp4"],
    )
    expires_in_s: float = Field(gt=0, description="Seconds until the file is deleted.")


class AnalysisResponse(StrictModel):
    """The result of ``POST /analyze`` (and of ``python -m analyzer``)."""

    video: VideoInfo
    model: ModelInfo
    total_frames: int = Field(ge=0, description="Frames decoded.")
    processed_frames: int = Field(ge=0, description="Frames run through the landmarker.")
    frames_with_person: int = Field(ge=0)
    detected_poses: dict[str, list[int]] = Field(
        description="Pose -> frame indices where the smoothed decision is on; every requested "
        "pose is a key (`[]` when never seen)."
    )
    pose_summary: list[PoseSummary]
    segments: list[Segment] = Field(description="Ordered by start frame, then pose.")
    processing_s: float = Field(ge=0, description="Wall time of the analysis, in seconds.")
    frames: list[FrameDetail] = Field(default=None, description="Only with `include=frames`.")
    annotated_video: AnnotatedVideo = Field(default=None, description="Only with `annotate=1`.")


class ProgressResponse(StrictModel):
    """How far an analysis is."""

    stage: str = Field(
        description="`analyzing`, then `rendering` with `annotate=1`, then `done` for a minute after."
    )
    frames_done: int = Field(ge=0, description="Frames analyzed so far.")
    frames_total: int | None = Field(
        ge=0, description="Frames expected, from the container's header; `null` when it does not say."
    )


class SubmitOptions(AnalyzeOptions):
    """Options of ``POST /analyses``: those of ``POST /analyze`` and a webhook."""

    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description='Called with a signed POST `{"id", "status", "event": "analysis.finished"}` '
        "when the job ends (see the README's webhook section). `https://` only, to a public address; "
        "the server needs `WEBHOOK_SECRET`.",
        examples=["https://example.com/hooks/dancepose"],
    )


class SubmitForm(SubmitOptions, AnalyzeForm):
    """The ``multipart/form-data`` body of ``POST /analyses``."""


class SubmitHeaders(BaseModel):
    """Headers of ``POST /analyses``."""

    model_config = ConfigDict(json_schema_extra=_omittable, populate_by_name=True)

    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="1-255 printable ASCII characters. The same key with the same options within 24 h "
        "returns the first job (200) instead of a second one; with other options: 409 "
        "`idempotency_conflict`.",
    )


class AnalysisAccepted(StrictModel):
    """A job, just submitted."""

    id: str = Field(pattern=JOB_ID_PATTERN, description="The job's id (192 random bits): keep it secret.")
    status: Literal["queued", "running", "succeeded", "failed", "canceled"]
    status_url: str = Field(description="Path of `GET /analyses/{id}`.", examples=["/analyses/" + "A" * 32])


class JobProgress(StrictModel):
    """How far a job is."""

    stage: Literal["queued", "analyzing", "rendering", "done"]
    frames_done: int = Field(ge=0, description="Frames analyzed so far (written at most once a second).")
    frames_total: int | None = Field(
        ge=0, description="Frames expected, from the container's header; `null` if unknown."
    )


class JobAnnotatedVideo(StrictModel):
    """The annotated MP4 of a job with `annotate=1`."""

    url: str = Field(description="Path of `GET /annotated/{video_id}.mp4`.")
    expires_at: str = Field(description="When the file is deleted (RFC 3339, UTC).")


class JobResultUrl(StrictModel):
    """Where to GET a job's result JSON (the same bytes as `result`)."""

    url: str = Field(
        description="A presigned S3 URL when results live in S3 (`JOB_BACKEND=aws`; send no API key "
        "to it), else the path of `GET /analyses/{job_id}/result`, relative to the service's base URL."
    )
    expires_at: str = Field(
        description="When the URL stops working (RFC 3339, UTC): a few minutes for a presigned URL "
        "(read the job again for a new one), the job's `expires_at` for the API's path."
    )


class AnalysisJob(StrictModel):
    """An analysis job: its status, progress and, once it succeeded, its result."""

    id: str = Field(pattern=JOB_ID_PATTERN)
    status: Literal["queued", "running", "succeeded", "failed", "canceled"] = Field(
        description="`queued` -> `running` -> `succeeded` | `failed`; `canceled` by `DELETE`."
    )
    progress: JobProgress
    created_at: str = Field(description="RFC 3339, UTC.")
    updated_at: str = Field(description="RFC 3339, UTC.")
    expires_at: str = Field(
        description="When the job and its files are deleted (RFC 3339, UTC): `JOB_TTL_S` after it ends; "
        "for a job not yet ended, the earliest it could be."
    )
    error: ErrorBody | None = Field(
        description="Why a `failed` job failed, with the codes of `POST /analyze` (`undecodable_video`, "
        "`video_too_large`, `analysis_timeout`, `worker_crashed`, ...) or `worker_lost`."
    )
    result: AnalysisResponse | None = Field(
        description="Exactly what `POST /analyze` answers, once `succeeded`; `null` when it is larger "
        "than `RESULT_INLINE_MAX_BYTES` (fetch `result_url` then)."
    )
    result_url: JobResultUrl | None = Field(
        description="Where to fetch the result, for every `succeeded` job (`null` otherwise)."
    )
    annotated_video: JobAnnotatedVideo | None


class AnalysisListItem(StrictModel):
    """A job in a listing."""

    id: str = Field(pattern=JOB_ID_PATTERN)
    status: Literal["queued", "running", "succeeded", "failed", "canceled"]
    status_url: str
    created_at: str
    updated_at: str
    expires_at: str


class AnalysisList(StrictModel):
    """A page of the caller's jobs, newest first."""

    analyses: list[AnalysisListItem]
    next_cursor: str | None = Field(description="`cursor` of the next page; `null` on the last.")


class ListQuery(BaseModel):
    """Paging of ``GET /analyses``."""

    model_config = ConfigDict(json_schema_extra=_omittable)

    limit: Annotated[int, Field(ge=1, le=100), BeforeValidator(_as_number)] = Field(
        default=20, description="Jobs per page."
    )
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page."
    )


#: A key of ``POST /uploads``: ``direct-`` and 192 random bits.
VIDEO_KEY_PATTERN = r"^direct-[A-Za-z0-9_-]{32}$"


class DirectUpload(StrictModel):
    """Where to send a video straight to object storage."""

    video_key: str = Field(
        pattern=VIDEO_KEY_PATTERN,
        description='Pass it to `POST /analyses` as `{"video_key": ...}` once uploaded.',
    )
    url: str = Field(description="POST the upload here, as `multipart/form-data`.")
    fields: dict[str, str] = Field(
        description="Form fields to send first, as given, then `Content-Type` (a `video/*` type) and "
        "the file itself last, in field `file`."
    )
    max_bytes: int = Field(ge=1, description="Largest upload the storage accepts (`MAX_UPLOAD_MB`).")
    expires_at: str = Field(description="When the upload permission ends (RFC 3339, UTC).")


class SubmitStored(SubmitOptions):
    """The JSON body of ``POST /analyses`` for a video sent with ``POST /uploads``."""

    video_key: str = Field(pattern=VIDEO_KEY_PATTERN, description="The `video_key` of `POST /uploads`.")
