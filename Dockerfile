# dancepose service image (see infra/README.md). Build from the repository root:
#   docker build -t dancepose .
#       downloads the official pose model and checks its sha256 (needs internet);
#   docker build --build-arg MODEL_FILE=build/model/pose_landmarker_full.task -t dancepose .
#       copies a model file from the build context instead (offline builds; put it
#       under build/model/, which .dockerignore lets in); its sha256 must be one
#       of MODEL_SHA256_ALLOWED.
# Both FROM lines name the same pinned base; keep them equal.

FROM python:3.11.14-slim-bookworm AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
# --no-deps: requirements.txt is a full lock that installs opencv-python-headless
# and leaves out mediapipe's opencv-contrib-python (see its header).
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.txt
WORKDIR /app
COPY analyzer/ analyzer/
# The pose model, verified either way: analyzer.landmarks.model.download_model fetches the
# pinned official file and checks its sha256; a MODEL_FILE from the build context
# must hash to one of MODEL_SHA256_ALLOWED: the official file (analyzer.landmarks.model.MODEL_SHA256)
# or the offline test bundle of ../shared/models (README there).
ARG MODEL_FILE=""
ARG MODEL_SHA256_ALLOWED="5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1 bf111a446f51603e46d42b36de09f5d150748f0947b9f523b5b1f871947cd2aa"
RUN --mount=type=bind,target=/context \
    if [ -z "$MODEL_FILE" ]; then \
      python -c 'from pathlib import Path; from analyzer.landmarks.model import download_model; download_model(Path("/opt/model"))'; \
    else \
      install -D -m 0444 "/context/$MODEL_FILE" /opt/model/pose_landmarker_full.task; \
    fi \
 && sha=$(sha256sum /opt/model/pose_landmarker_full.task | cut -d' ' -f1) \
 && case " $MODEL_SHA256_ALLOWED " in \
      *" $sha "*) echo "pose model sha256 $sha: allowed" ;; \
      *) echo "pose model sha256 $sha is not in MODEL_SHA256_ALLOWED" >&2; exit 1 ;; \
    esac

FROM python:3.11.14-slim-bookworm
# /tmp is the only writable path at run time (ECS mounts a volume there and the
# root file system is read-only): temp files, uploads and matplotlib's cache.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080 \
    POSE_MODEL_PATH=/opt/model/pose_landmarker_full.task \
    TMPDIR=/tmp \
    UPLOAD_DIR=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
# MediaPipe's task library links libEGL and libGLESv2 (CPU inference does not
# use them, but they must load); OpenCV is headless and needs no libGL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libegl1=1.6.0-1 libgles2=1.6.0-1 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/model /opt/model
WORKDIR /app
COPY analyzer/ analyzer/
COPY api/ api/
COPY jobs/ jobs/
COPY server.py gunicorn.conf.py ./
# Fail the build if any OpenCV but the headless one is installed, if cv2 does
# not import in this image (which has no libGL), if MediaPipe cannot make a
# pose landmarker from the model, if PyAV cannot encode H.264 (annotated
# videos), or if the web page's files are missing. Then empty /tmp: what root
# leaves there (matplotlib's cache) would be copied into the volume and block
# the app user.
RUN python -m compileall -q analyzer api server.py \
 && python -c "import ctypes.util, importlib.metadata as m, cv2; \
assert ctypes.util.find_library('GL') is None, 'libGL is installed'; \
names = {d.metadata['Name'].lower() for d in m.distributions()}; \
extra = sorted(n for n in names if n.startswith('opencv') and n != 'opencv-python-headless'); \
assert not extra, f'non-headless OpenCV installed: {extra}'; \
print('cv2', cv2.__version__, 'imports; OpenCV packages:', sorted(n for n in names if n.startswith('opencv')))" \
 && python -c "import os, pathlib; from analyzer.landmarks.landmarker import create_landmarker; \
create_landmarker(pathlib.Path(os.environ['POSE_MODEL_PATH']).read_bytes()).close(); \
print('pose landmarker loads', os.environ['POSE_MODEL_PATH'])" \
 && python -c "import av; av.codec.Codec('libx264', 'w'); print('PyAV', av.__version__, 'encodes H.264')" \
 && test -f api/static/index.html \
 && find /tmp -mindepth 1 -delete
USER 10001:10001
EXPOSE 8080
VOLUME ["/tmp"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "server:app"]
