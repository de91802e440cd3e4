"""Jobs: a unit of work with an id and a stored state, run by a worker. A
job is of one of two kinds (``jobs.records.JobKind``): an analysis of one
video, or a comparison of a performance video with a reference video; both
live the same lifecycle on the same engine.

The lifecycle, in the order a job lives it:

1. ``jobs.service.JobService.submit`` (called by the API) moves the
   upload(s) into the upload store, writes the job record (``queued``) and
   sends a message to the queue, all behind the ``jobs.backends`` interfaces.
2. ``jobs.worker`` (its own process: ``python -m jobs``) leases a message,
   marks the job ``running``, runs its work (by kind: ``jobs.analysis``,
   ``jobs.comparison``) on its ``LandmarkPool``, stores the result and
   finishes the record exactly once (a conditional update), then calls the
   job's webhook (``jobs.webhooks``).
3. A lease that is not extended (the worker died) makes the message
   visible again; after ``JOB_MAX_ATTEMPTS`` receives the job fails with
   ``worker_lost``.
4. Finished jobs expire after ``JOB_TTL_S``: record, result and annotated
   video are deleted by the worker's sweep.

Imports flow one way: ``api -> jobs -> analyzer``.
"""
