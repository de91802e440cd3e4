"""A landmark worker process: ``python -m analyzer.landmarks.worker``.

Started by ``analyzer.landmarks.pool.LandmarkPool``. It loads the pose model once,
and always holds a fresh landmarker for the next task, made while it waits
(making one takes 100-200 ms). It runs ``LandmarkTask``s read from stdin and
answers each with messages on its protocol pipe, all pickled (parent and
child are the same program):

- ``("ready", ModelInfo)`` once the model is loaded and a landmarker could
  be made from it, or
  ``("error", code, message)`` and exit if it cannot be;
- per task, any number of ``("progress", frames_done)``, then either
  ``("result", LandmarkRun)`` or ``("error", code, message)``.

The protocol pipe is the process's original stdout; file descriptor 1 is
pointed at stderr so that native libraries printing to stdout cannot
corrupt it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pickle
import sys
from typing import BinaryIO

from pythonjsonlogger.json import JsonFormatter

from analyzer.errors import AnalyzerError, ModelUnavailableError
from analyzer.landmarks.landmarker import create_landmarker, run_landmarker
from analyzer.landmarks.model import model_info, resolve_model_path

log = logging.getLogger("analyzer.landmarks.worker")


def _send(out: BinaryIO, message: tuple) -> None:
    pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def release_memory() -> None:
    """Give the heap memory freed by the last task back to the system
    (glibc's ``malloc_trim``; nothing elsewhere). Without it a worker keeps
    the high-water mark of its largest video and carries it into later
    tasks: the hip-hop clip analyzed after the 1080x1920 HEVC clip peaked at
    594 MB PSS without it and 539 MB with it (``analyzer.tools.bench``'s measure)."""
    process = ctypes.CDLL(None)  # the C library is loaded already
    if hasattr(process, "malloc_trim"):
        process.malloc_trim(0)


def serve(tasks: BinaryIO, out: BinaryIO) -> None:
    """Load the model, then answer tasks from ``tasks`` until it is closed."""
    try:
        path = resolve_model_path()
        info = model_info(path)
        model = path.read_bytes()
        landmarker = create_landmarker(model)  # fails now, not on the first upload
    except AnalyzerError as exc:
        _send(out, ("error", exc.code, str(exc)))
        return
    except Exception as exc:  # a corrupt model file, a missing native library
        log.exception("cannot create a pose landmarker")
        _send(out, ("error", ModelUnavailableError.code, f"cannot load the pose model: {exc}"))
        return
    _send(out, ("ready", info))
    while True:
        try:
            task = pickle.load(tasks)
        except EOFError:
            landmarker.close()
            return
        try:
            run = run_landmarker(landmarker, task, on_progress=lambda n: _send(out, ("progress", n)))
        except AnalyzerError as exc:
            _send(out, ("error", exc.code, str(exc)))
        except Exception:
            log.exception("landmark task failed")
            _send(out, ("error", "internal", "the landmark worker failed"))
        else:
            _send(out, ("result", run))
        finally:
            landmarker.close()
        release_memory()
        landmarker = create_landmarker(model)


def main() -> None:
    """Entry point: protocol on the original stdout, fd 1 redirected to
    stderr, logs as JSON lines on stderr (MediaPipe's own native log lines
    stay plain text)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
