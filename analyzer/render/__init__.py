"""Render stage: an analysis in, pictures out.

Takes an ``AnalysisResult`` or its JSON (with ``include=frames``). Gives
what to draw per analyzed frame (``Overlay``), the skeleton and a label
drawn on an RGB frame (``draw_skeleton``, ``draw_label``), and an annotated
H.264 MP4 of the whole video (``analyzer.render.annotate``, run as
``python -m analyzer.annotate``). That one loads PyAV and costs CPU for
seconds, so the server runs it in a child process and it is not imported
here.
"""

from analyzer.render.overlay import Overlay, overlay_from_analysis, overlay_from_result
from analyzer.render.skeleton import draw_label, draw_skeleton

__all__ = ["Overlay", "draw_label", "draw_skeleton", "overlay_from_analysis", "overlay_from_result"]
