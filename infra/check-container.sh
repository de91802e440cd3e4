#!/usr/bin/env bash
# Build the image with podman and smoke-test the running container (make
# container-check). Uses ../shared/tools/container-check.sh (no Docker engine
# or registry needed) and, since the build has no internet, the offline model
# of ../shared/models, staged in the git-ignored build/model/ for the build
# and removed afterwards. Passes when the container runs as a non-root user,
# answers /health, and analyzes a real video through POST /analyze.
# usage: infra/check-container.sh [SHARED_DIR]   (default: ../shared)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${1:-$root/../shared}" && pwd)
staged=build/model/pose_landmarker_full.task
video=$shared/videos/dance_hiphop_solo_portrait_718x1280.mp4
log=$root/build/container-check.log

cd "$root"
mkdir -p build/model
trap 'rm -rf "$root/build/model"' EXIT
cp "$shared/models/pose_landmarker_full.task" "$staged"

"$shared/tools/container-check.sh" --build-arg "MODEL_FILE=$staged" . \
  infra/smoke-test.sh "$video" 2>&1 | tee "$log"

uid=$(sed -n 's/^== user: //p' "$log")
if ! [[ $uid =~ ^[0-9]+$ ]] || [ "$uid" -eq 0 ]; then
  echo "container-check: FAIL: the container runs as user '${uid:-?}', not a non-root uid" >&2
  exit 1
fi
echo "container-check: PASS (uid $uid; log in $log)"
