"""dancepose analyzer: video in, typed pose results out.

Data flows one way: video file -> decoded frames (``analyzer.video``) ->
landmarks ``(33, 4)`` per frame (``analyzer.landmarker``, in worker
processes of ``analyzer.pool``) -> detector scores (``analyzer.detectors``)
-> smoothed decisions (``analyzer.smoothing``) -> segments and summary
(``analyzer.results``) -> JSON.
"""

from analyzer.errors import AnalyzerError
from analyzer.options import AnalysisOptions
from analyzer.pipeline import analyze_video
from analyzer.pool import LandmarkPool
from analyzer.results import AnalysisResult

__all__ = ["AnalysisOptions", "AnalysisResult", "AnalyzerError", "LandmarkPool", "analyze_video"]
