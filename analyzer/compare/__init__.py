"""Compare two performances: a student's landmarks against the teacher's,
aligned in time, scored per body part (issue 17, docs/compare.md).

Flow: landmarks ``(n, 33, 4)`` per video (``sequence``) -> unit bone
directions in pixel space, gaps filled (``features``) -> a common rate
(``resample``) -> DTW alignment and timing (``align``) -> angle errors and
scores (``score``) -> segments (``segments``) -> ``ComparisonResult``
(``result``). ``engine.compare_sequences`` runs it on landmarks;
``videos.compare_videos`` gets the landmarks of two video files first.
"""

from analyzer.compare.engine import compare_sequences
from analyzer.compare.errors import InsufficientPoseError
from analyzer.compare.result import ComparisonResult
from analyzer.compare.sequence import PoseSequence

__all__ = ["ComparisonResult", "InsufficientPoseError", "PoseSequence", "compare_sequences"]
