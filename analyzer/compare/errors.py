"""Errors of a comparison, beside those of the analysis (``analyzer.errors``)."""

from __future__ import annotations

from analyzer.errors import AnalyzerError


class InsufficientPoseError(AnalyzerError):
    """One of the two videos has too little pose to compare: a person in
    fewer than ``MIN_POSE_COVERAGE`` of its frames, or no bone ever visible.

    Attributes:
        video: which one, ``"reference"`` or ``"performance"``.
    """

    code = "insufficient_pose"

    def __init__(self, video: str, message: str) -> None:
        super().__init__(message)
        self.video = video
