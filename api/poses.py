"""``GET /poses``: every pose the service can detect, with its name,
description and declarative definition, and the published JSON Schema of
definitions (``analyzer/poses/definitions/pose-definition.schema.json``).

The list is the registry's: the built-in library and the definitions of
``POSE_DEFINITIONS_DIR`` (``analyzer.poses.detectors.library``). A request's own
definitions (JSON in the ``poses`` field of ``POST /analyze``) are not
listed: they exist for that analysis only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field

from analyzer.poses.definitions import SCHEMA
from analyzer.poses.detectors import get_detectors
from api.openapi import responses, spec

bp = Blueprint("poses", __name__)


class PoseInfo(BaseModel):
    """One available pose."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The pose key in results and in the `poses` field.", examples=["t_pose"])
    description: str = Field(description="What a person would see.")
    definition: dict[str, Any] | None = Field(
        description="The declarative definition the detector is compiled from (see `definition_schema`); "
        "`null` for a detector written in Python."
    )


class PosesResponse(BaseModel):
    """Every available pose, and the schema of pose definitions."""

    model_config = ConfigDict(extra="forbid")

    poses: list[PoseInfo] = Field(description="Sorted by name.")
    definition_schema: dict[str, Any] = Field(
        description="The JSON Schema (draft 2020-12) that definitions sent in `POST /analyze`'s "
        "`poses` field, or put in `POSE_DEFINITIONS_DIR`, must be valid under."
    )


@bp.get("/poses")
@spec.validate(resp=responses(PosesResponse), tags=["poses"], operation_id="poses")
def poses() -> Response:
    """Every available pose, with its name, description and definition.

    Built-in poses and those loaded at start-up from `POSE_DEFINITIONS_DIR`,
    sorted by name, and the JSON Schema of pose definitions. Send your own
    definitions with an analysis as JSON in the `poses` field of
    `POST /analyze`.
    """
    return jsonify(
        {
            "poses": [
                {"name": pose.name, "description": pose.description, "definition": pose.definition}
                for pose in get_detectors()
            ],
            "definition_schema": SCHEMA,
        }
    )
