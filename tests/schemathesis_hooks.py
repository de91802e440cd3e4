"""Schemathesis hooks of the contract fuzz run (``tests/test_fuzz.py``,
``make fuzz``), loaded through ``SCHEMATHESIS_HOOKS``.

The file parts of ``POST /analyze`` are ``format: binary`` with
``encoding`` ``video/*`` in the document. Schemathesis would fill them with
its own sample files (a PNG, a PDF) or random bytes, which the service
rightly refuses (415), so no generated upload would reach an analysis.
These hooks make it send a real video instead, the file named by
``DANCEPOSE_FUZZ_VIDEO`` (a few frames of a shared clip, made at test time):

- for the ``video/mp4`` media type, which the fuzzing and stateful phases
  use for the ``video/*`` parts;
- for the ``binary`` format, which the examples and coverage phases use:
  the video first (the examples phase takes the simplest value), else
  random bytes, which must get 415 ``not_a_video``.

So generated uploads reach the analysis and its 200, and the stateful phase
can follow the links from an analysis to its progress and its annotated
video.
"""

from __future__ import annotations

import os
from pathlib import Path

import schemathesis
from hypothesis import strategies as st
from schemathesis.transport.serialization import Binary

VIDEO = Path(os.environ["DANCEPOSE_FUZZ_VIDEO"]).read_bytes()

schemathesis.openapi.media_type("video/mp4", st.just(VIDEO))
schemathesis.openapi.format("binary", st.one_of(st.just(VIDEO), st.binary(min_size=1)).map(Binary))
