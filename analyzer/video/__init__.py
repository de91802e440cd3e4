"""Input stage: a video file in, upright RGB frames out.

Takes a path to an uploaded file. Gives what the container declares
(``probe``, ``ContainerInfo``), whether the content is a video at all
(``sniff``), the decoded frames one at a time (``FrameReader``, ``Frame``),
which frames sampling keeps (``is_sampled``, ``frames_to_analyze``), and the
limits a video must stay within (``VideoLimits``).
"""

from analyzer.video.limits import VideoLimits
from analyzer.video.probe import ContainerInfo, frames_to_analyze, probe, sniff
from analyzer.video.reader import Frame, FrameReader, is_sampled

__all__ = [
    "ContainerInfo",
    "Frame",
    "FrameReader",
    "VideoLimits",
    "frames_to_analyze",
    "is_sampled",
    "probe",
    "sniff",
]
