"""Developer tools, not on the service's import path.

- ``python -m analyzer.tools.evaluate LABELS VIDEOS``: precision, recall and
  F1 per pose on labelled frames (``make accuracy``).
- ``python -m analyzer.tools.bench``: throughput and memory against a naive
  loop (``make bench``).
"""
