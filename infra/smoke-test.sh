#!/usr/bin/env bash
# Smoke test of a running dancepose server at $BASE_URL: GET /health answers
# 200, and POST /analyze of a real video answers 200 with detected_poses.
# usage: BASE_URL=http://127.0.0.1:18080 infra/smoke-test.sh VIDEO_FILE
set -euo pipefail

video=${1:?usage: BASE_URL=... $0 VIDEO_FILE}
: "${BASE_URL:?set BASE_URL to the server, e.g. http://127.0.0.1:8080}"

curl -sSf "$BASE_URL/health" >/dev/null
echo "smoke: POST $BASE_URL/analyze with $(basename "$video")"
body=$(curl -sSf --max-time 600 -F "video=@$video" "$BASE_URL/analyze")
python3 -c '
import json, sys
result = json.loads(sys.argv[1])
poses = result["detected_poses"]
assert isinstance(poses, dict) and poses, "detected_poses is missing or empty"
counts = ", ".join(f"{name}: {len(frames)}" for name, frames in poses.items())
frames, people = result["total_frames"], result["frames_with_person"]
print(f"smoke: {frames} frames, {people} with a person; detected frames per pose: {counts}")
' "$body"
