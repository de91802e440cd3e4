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

They also register ``negative_data_rejection_as_sent``, which the run uses
in place of the built-in negative_data_rejection (ST201): see its docstring.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, Response
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import _has_other_negated_location, negative_data_rejection
from schemathesis.transport.serialization import Binary

from tests.form_as_sent import form_is_valid_as_sent

#: The media type of every form of the document.
FORM = "multipart/form-data"

VIDEO = Path(os.environ["DANCEPOSE_FUZZ_VIDEO"]).read_bytes()

schemathesis.openapi.media_type("video/mp4", st.just(VIDEO))
schemathesis.openapi.format("binary", st.one_of(st.just(VIDEO), st.binary(min_size=1)).map(Binary))


@schemathesis.check
def negative_data_rejection_as_sent(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Schemathesis's negative_data_rejection (ST201), which this run uses
    in its place (``--exclude-checks`` in ``tests/test_fuzz.py``), except
    for a form that satisfies its schema as sent.

    A multipart form is all text on the wire, so a value generated as
    schema-violating (the integer ``12345678`` for the string
    ``progress_id``, the array ``[5.0]`` for the number ``sample_fps``) can
    arrive as the very text of a valid one; Schemathesis 4.32.5 cannot
    see that in a form with a file part (``tests/form_as_sent.py``), which
    every upload form here has. A case whose only schema-violating part is
    its body (as the built-in check tells, with its own helper for the
    other locations), and whose body as sent is valid, is not a failure;
    every other case is judged by the built-in check, with its
    configuration.
    """
    body = response.request.body
    content_type = response.request.headers.get("Content-Type", "")
    if (
        case.meta is not None
        and case.meta.is_negative_at(ParameterLocation.BODY)
        and not _has_other_negated_location(case, ParameterLocation.BODY)
        and isinstance(body, bytes)
        and content_type.startswith(FORM)
    ):
        schema = form_schema(case)
        if schema is not None and form_is_valid_as_sent(body, content_type, schema):
            return None
    return negative_data_rejection(ctx, response, case)


def form_schema(case: Case) -> dict[str, Any] | None:
    """The schema of the form ``case`` sends (Schemathesis resolves the
    document's ``$ref``), or ``None`` if the operation takes no form."""
    media = case.operation.get_body_for_media_type(case.media_type or FORM)
    schema = media.definition.get("schema") if media is not None else None
    return schema if isinstance(schema, dict) and "$ref" not in schema else None
