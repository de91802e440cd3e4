"""Errors the analyzer raises. Each has a stable machine-readable ``code``
that the HTTP API and the CLI report next to the message."""

from __future__ import annotations


class AnalyzerError(Exception):
    """Base of every error the analyzer raises on purpose."""

    code = "analyzer_error"


class UnknownPoseError(AnalyzerError, ValueError):
    """A requested pose name is not registered."""

    code = "unknown_pose"


class NotAVideoError(AnalyzerError):
    """The file's content is not a video container we can read."""

    code = "not_a_video"


class UndecodableVideoError(AnalyzerError):
    """The file looks like a video but no frame could be decoded from it."""

    code = "undecodable_video"


class VideoTooLargeError(AnalyzerError):
    """The video is past a configured limit: duration, frame count or frame
    size in pixels (``analyzer.video.limits.VideoLimits``)."""

    code = "video_too_large"


class ModelUnavailableError(AnalyzerError):
    """The pose model file is missing, corrupt or cannot be downloaded."""

    code = "model_unavailable"


class WorkerCrashedError(AnalyzerError):
    """A landmark worker process died while analyzing."""

    code = "worker_crashed"


class AnalysisTimeoutError(AnalyzerError):
    """An analysis ran past its time limit and was stopped."""

    code = "analysis_timeout"


class AnalysisCanceledError(AnalyzerError):
    """The analysis was canceled (its job was) and its workers stopped."""

    code = "canceled"


class PoolBusyError(AnalyzerError):
    """Every landmark worker is busy and the wait for one timed out."""

    code = "busy"


class AnnotationError(AnalyzerError):
    """The annotated video could not be rendered."""

    code = "annotation_failed"


class PoseDefinitionError(AnalyzerError, ValueError):
    """A pose definition (``analyzer.poses.definitions``) is not valid: bad JSON,
    not valid under the published schema, or inconsistent. The message says
    where (source, line, column and JSON path) and what is wrong."""

    code = "invalid_pose_definition"
