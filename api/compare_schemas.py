"""The JSON contract of ``POST /compare`` and of comparison jobs
(``/comparisons``) as pydantic models (see ``api.schemas`` for how models
become the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from spectree.model_adapter.pydantic_adapter import BaseFile

from analyzer.options import MIN_SAMPLE_FPS
from api.schemas import (
    PROGRESS_ID_PATTERN,
    VIDEO_MEDIA_TYPE,
    AnalysisAccepted,
    AnalysisJob,
    ErrorBody,
    Landmark,
    RequestOptions,
    SampleFps,
    StrictModel,
    _options,
)

Score = Annotated[float, Field(ge=0, le=100)]

BODY_PARTS_DESCRIPTION = (
    "Score 0-100 of each body part (`left_arm`, `right_arm`, `left_leg`, `right_leg`, `torso`), "
    "`null` where it was never seen in both videos."
)


class ComparisonOptions(RequestOptions):
    """Options of a comparison, as query parameters or form fields, shared
    by ``POST /compare`` and ``POST /comparisons``. An empty value means the
    default."""

    include: str | None = Field(
        default=None,
        description="`frames` adds `frames`: per video, per frame its index, timestamp and 33 landmarks "
        "(what the page draws the skeletons from).",
        examples=["frames"],
    )
    sample_fps: SampleFps | None = Field(
        default=None,
        description="Analyze at most this many frames per second of each video (default: every frame, "
        f"or the server's `SAMPLE_FPS`). At least {MIN_SAMPLE_FPS:g}.",
    )


class CompareOptions(ComparisonOptions):
    """Options of ``POST /compare``, as query parameters or form fields. An
    empty value means the default."""

    progress_id: str | None = Field(
        default=None,
        pattern=PROGRESS_ID_PATTERN,
        description="A random id chosen by the client; while the comparison runs, "
        "`GET /progress/{progress_id}` reports the frames of both videos analyzed so far.",
    )


class SubmitComparisonOptions(ComparisonOptions):
    """Options of ``POST /comparisons``: those of ``POST /compare`` (but
    ``progress_id``: a job has its own progress) and a webhook."""

    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description='Called with a signed POST `{"id", "status", "event": "comparison.finished"}` '
        "when the job ends (see the README's webhook section). `https://` only, to a public address; "
        "the server needs `WEBHOOK_SECRET`.",
        examples=["https://example.com/hooks/dancepose"],
    )


def _videos_required(schema: dict[str, Any]) -> None:
    """JSON schema of ``CompareForm``: as ``_options``, and both videos are
    required, as video content."""
    _options(schema)
    schema["required"] = ["reference", "performance"]
    for name in schema["required"]:
        schema["properties"][name]["contentMediaType"] = VIDEO_MEDIA_TYPE


class _Videos(BaseModel):
    """The two file parts of a comparison's form."""

    reference: BaseFile | None = Field(
        default=None,
        description="The reference (teacher's) video. Required; without it: 400 `missing_file`.",
    )
    performance: BaseFile | None = Field(
        default=None,
        description="The performance (student's) video. Required; without it: 400 `missing_file`.",
    )


class CompareForm(CompareOptions, _Videos):
    """The ``multipart/form-data`` body of ``POST /compare``: both videos and,
    optionally, the options as fields."""

    model_config = ConfigDict(json_schema_extra=_videos_required)


class SubmitComparisonForm(SubmitComparisonOptions, _Videos):
    """The ``multipart/form-data`` body of ``POST /comparisons``."""

    model_config = ConfigDict(json_schema_extra=_videos_required)


class Timing(StrictModel):
    """How the performance's time maps onto the reference's."""

    offset_ms: float = Field(
        description="Performance time minus reference time at the reference's start, in ms "
        "(500: the performance starts half a second late)."
    )
    tempo_ratio: float = Field(
        gt=0, description="The performance's tempo over the reference's (1.25: 25% faster; 0.8: slower)."
    )
    mean_abs_lag_ms: float = Field(
        ge=0,
        description="Mean distance of the performance ahead of or behind the line of `offset_ms` and "
        "`tempo_ratio`, in ms: uneven timing, not a constant delay.",
    )


class ComparedSegment(StrictModel):
    """A stretch of the reference, 1.5 s long (the last one 0.75-2.25 s)."""

    start_ms: float = Field(ge=0, description="Start in reference time, in ms.")
    end_ms: float = Field(ge=0, description="End in reference time, in ms (exclusive).")
    score: Score | None = Field(description="0-100 over the stretch; `null` where nothing was compared.")
    lag_ms: float = Field(
        description="Mean lag of the performance over the stretch, in ms (positive: behind)."
    )
    body_parts: dict[str, Score | None] = Field(description=BODY_PARTS_DESCRIPTION)
    worst_body_parts: list[str] = Field(
        max_length=2,
        description="The (up to) two body parts scoring under 100 with the lowest score, lowest first; "
        "`[]` where every body part scored 100.",
    )


class ComparedVideo(StrictModel):
    """One of the two videos and how much pose it had."""

    filename: str = Field(description="The client's file name, for display only.")
    width: int = Field(gt=0, description="Frame width in pixels.")
    height: int = Field(gt=0, description="Frame height in pixels.")
    duration_ms: float = Field(ge=0, description="From the first analyzed frame to the last, in ms.")
    frames: int = Field(ge=1, description="Frames analyzed.")
    frames_with_person: int = Field(ge=0)
    pose_coverage: float = Field(ge=0, le=1, description="`frames_with_person / frames`.")


class ComparedFrame(StrictModel):
    """One analyzed frame of one video (``include=frames``)."""

    frame_index: int = Field(ge=0, description="0-based index in decode order.")
    timestamp_ms: float = Field(ge=0)
    landmarks: Annotated[list[Landmark], Field(min_length=33, max_length=33)] | None = Field(
        description="The 33 BlazePose landmarks in MediaPipe's order, or `null` without a person."
    )


class ComparedFrames(StrictModel):
    """Both videos' frames."""

    reference: list[ComparedFrame]
    performance: list[ComparedFrame]


class ComparisonResponse(StrictModel):
    """The result of ``POST /compare`` (and of ``python -m analyzer.compare``);
    docs/compare.md defines the score."""

    score: Score | None = Field(
        description="0-100, 100 = every bone within 10 degrees of the reference all along, 0 = every "
        "bone 30 degrees or more off; `null` when nothing could be compared."
    )
    mirrored: bool = Field(description="The performance scored better mirrored (facing the teacher).")
    timing: Timing
    body_parts: dict[str, Score | None] = Field(description=BODY_PARTS_DESCRIPTION)
    segments: list[ComparedSegment] = Field(description="Consecutive stretches of the reference, in order.")
    path: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        description="The time alignment, one `[reference ms, performance ms]` pair per 100 ms of "
        "reference time, both non-decreasing: play the performance at the second time when the "
        "reference is at the first."
    )
    reference: ComparedVideo
    performance: ComparedVideo
    processing_s: float = Field(
        ge=0, description="Wall time of the comparison, landmarks included, in seconds."
    )
    frames: ComparedFrames = Field(default=None, description="Only with `include=frames`.")


class ComparisonAccepted(AnalysisAccepted):
    """A comparison job, just submitted."""

    status_url: str = Field(
        description="Path of `GET /comparisons/{id}`.", examples=["/comparisons/" + "A" * 32]
    )


class ComparisonJob(AnalysisJob):
    """A comparison job: its status, progress (the frames of both videos)
    and, once it succeeded, its result."""

    error: ErrorBody | None = Field(
        description="Why a `failed` job failed, with the codes of `POST /compare` (`insufficient_pose` "
        "naming the video, `undecodable_video`, `video_too_large`, `analysis_timeout`, `worker_crashed`, "
        "...) or `worker_lost`."
    )
    result: ComparisonResponse | None = Field(
        description="Exactly what `POST /compare` answers, once `succeeded`."
    )
    result_url: None = Field(description="Always `null`: a comparison's result is always inline.")
    annotated_video: None = Field(description="Always `null`: a comparison renders no video.")
