"""dancepose analyzer: video in, typed pose results out.

Data flows one way: video file -> decoded frames (``analyzer.video.reader``) ->
landmarks ``(33, 4)`` per frame (``analyzer.landmarks.landmarker``, in worker
processes of ``analyzer.landmarks.pool``) -> detector scores (``analyzer.poses.detectors``)
-> smoothed decisions (``analyzer.poses.smoothing``) -> segments and summary
(``analyzer.results``) -> JSON.
"""

from analyzer.errors import AnalyzerError
from analyzer.landmarks.pool import LandmarkPool
from analyzer.options import AnalysisOptions
from analyzer.pipeline import analyze_video
from analyzer.results import AnalysisResult

__all__ = ["AnalysisOptions", "AnalysisResult", "AnalyzerError", "LandmarkPool", "analyze_video"]
