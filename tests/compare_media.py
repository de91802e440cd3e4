"""Variants of a shared clip made with ffmpeg, for the comparison's
invariance tests (issue 17): each is the same performance filmed or encoded
differently, or performed later, slower or faster."""

from __future__ import annotations

import subprocess
from pathlib import Path

#: ffmpeg video filter of each variant, and whether its frames keep their
#: own timestamps (``-fps_mode passthrough``: setpts changes the frame
#: spacing, not the frames).
VARIANTS: dict[str, tuple[str, bool]] = {
    # The picture mirrored left to right, as a student facing the teacher.
    "hflip": ("hflip", False),
    # Slowed to 0.8x (every frame shown 1.25 times as long) and sped to 1.25x.
    "slow_0.8x": ("setpts=PTS/0.8", True),
    "fast_1.25x": ("setpts=PTS/1.25", True),
    # Starting 0.5 s late: the first frame held for 0.5 s before the rest.
    "late_0.5s": ("tpad=start_duration=0.5:start_mode=clone", False),
    # Re-encoded at 25 fps (frames dropped from 30 fps).
    "fps25": ("fps=25", False),
    # Scaled to 60% and padded, centred, to a 4:3 landscape frame.
    "scaled_padded": (
        "scale=trunc(iw*0.6/2)*2:trunc(ih*0.6/2)*2,pad=trunc(ih*4/3/2)*2:ih:(ow-iw)/2:0",
        False,
    ),
}


def make_variant(source: Path, variant: str, directory: Path) -> Path:
    """Encode ``source`` as ``variant`` (a key of ``VARIANTS``) into
    ``directory`` (H.264, no audio) and return the new file's path.

    Raises:
        subprocess.CalledProcessError: ffmpeg failed.
    """
    video_filter, passthrough = VARIANTS[variant]
    path = directory / f"{source.stem}_{variant}.mp4"
    timing = ["-fps_mode", "passthrough"] if passthrough else []
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-i", str(source), "-vf", video_filter, *timing]
        + ["-an", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path
