"""Response bodies that are always valid JSON."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class FiniteJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, with ``allow_nan=False``.

    JSON has no NaN or Infinity (RFC 8259, section 6): Python's ``json``
    writes them as the bare words ``NaN`` and ``Infinity`` by default, which
    browsers' ``JSON.parse`` and strict clients reject. With this provider a
    non-finite float in a response raises ``ValueError`` instead, which
    ``api.errors`` logs and answers as the 500 ``internal`` envelope: a bug
    shows as a bug, never as a 200 with a body that is not JSON.
    """

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """``json.dumps`` with Flask's defaults and ``allow_nan=False``.

        Raises:
            ValueError: ``obj`` holds a NaN or infinite float.
        """
        return super().dumps(obj, **{**kwargs, "allow_nan": False})
