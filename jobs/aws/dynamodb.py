"""``jobs.backends.JobStore`` on one DynamoDB table (on-demand).

Items, keyed by the string ``pk``:

- ``job#<id>``: a job record (``jobs.records.Job``'s fields; ``spec`` as
  JSON; ``kind``, absent from records written before jobs had kinds, which
  are analyses), plus the attributes of three sparse indexes: ``owner`` and
  ``created_key`` (``by_owner``: listing), ``expiry_part`` and
  ``expires_at`` (``by_expiry``: finished jobs, for the sweep),
  ``webhook_due`` (``webhooks``: finished jobs whose webhook is pending).
- ``key#<sha256(owner, key)>``: an Idempotency-Key, naming one job.

Every change of status is a conditional write on the current status, so
two workers can never both finish a job; a key and its job are written in
one transaction whose condition is that the key is free, so a key names
one job. ``ttl`` (epoch seconds) lets DynamoDB's TTL delete finished jobs
and keys; reads also check ``expires_at``, since TTL deletes within days.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from jobs.aws.clients import client, error_code
from jobs.backends import IdempotencyConflict
from jobs.records import FINAL, LIVE, Job, JobKind, JobStatus, Outcome, spec_from_json

#: How long an Idempotency-Key names its job, in s (the issue's 24 h).
IDEMPOTENCY_S = 24 * 3600.0
#: The fields of ``Job`` stored as attributes.
_FIELDS = tuple(Job.__dataclass_fields__)
_LIVE_VALUES = {":queued": {"S": str(JobStatus.QUEUED)}, ":running": {"S": str(JobStatus.RUNNING)}}
_IS_LIVE = "#status IN (:queued, :running)"
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def _number(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values of ``values`` (``None`` left out, floats as numbers)."""
    out = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = _serializer.serialize(_number(value) if isinstance(value, float) else value)
    return out


def _from_item(item: dict[str, Any]) -> Job:
    values = {name: _deserializer.deserialize(value) for name, value in item.items()}
    fields: dict[str, Any] = {name: values.get(name) for name in _FIELDS}
    for name in ("created_at", "updated_at", "expires_at", "annotated_expires_at"):
        if fields[name] is not None:
            fields[name] = float(fields[name])
    for name in ("frames_done", "attempts"):
        fields[name] = int(fields[name] or 0)
    if fields["frames_total"] is not None:
        fields["frames_total"] = int(fields["frames_total"])
    fields["status"] = JobStatus(fields["status"])
    fields["spec"] = spec_from_json(values.get("kind"), fields["spec"])
    fields["stage"] = fields["stage"] or "queued"
    return Job(**fields)


def _created_key(created_at: float, job_id: str) -> str:
    """Sort key of the ``by_owner`` index: creation time (fixed width, so
    that strings sort as the numbers do), then id."""
    return f"{created_at:020.6f}#{job_id}"


def _names(*expressions: str) -> dict[str, str]:
    """``ExpressionAttributeNames`` for every ``#name`` in ``expressions``
    (each attribute is named so, since many are DynamoDB reserved words)."""
    return {f"#{name}": name for text in expressions for name in re.findall(r"#(\w+)", text)}


def _visible(job: Job, now: float) -> bool:
    return job.status in LIVE or job.expires_at > now


class DynamoDBJobStore:
    """The job store on DynamoDB.

    Args:
        table: the table's name (made by ``infra/jobs.yaml``).
        webhook_claim_s: how long a worker owns a pending webhook it took
            from ``pending_webhooks``, in s; past it (the worker died)
            another worker may send it.
        dynamodb: a boto3 DynamoDB client (default: ``jobs.aws.clients.client("dynamodb")``).
    """

    def __init__(self, table: str, webhook_claim_s: float = 960.0, dynamodb: Any | None = None) -> None:
        self.table, self.webhook_claim_s = table, webhook_claim_s
        self.db = dynamodb if dynamodb is not None else client("dynamodb")

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _pk(job_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"job#{job_id}"}}

    @staticmethod
    def _key_pk(owner: str, key: str) -> str:
        return "key#" + hashlib.sha256(json.dumps([owner, key]).encode()).hexdigest()

    def _read(self, job_id: str) -> Job | None:
        item = self.db.get_item(TableName=self.table, Key=self._pk(job_id), ConsistentRead=True).get("Item")
        return None if item is None else _from_item(item)

    def _update(
        self, job_id: str, expression: str, condition: str, values: dict[str, Any], new: bool = False
    ):
        """A conditional ``UpdateItem``; the item (old or new) or ``None`` if the condition failed."""
        try:
            return self.db.update_item(
                TableName=self.table,
                Key=self._pk(job_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=_names(expression, condition),
                **({"ExpressionAttributeValues": values} if values else {}),
                ReturnValues="ALL_NEW" if new else "ALL_OLD",
            ).get("Attributes", {})
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise

    # ------------------------------------------------------------------ JobStore

    def create(self, job: Job, idempotency_key: str | None) -> tuple[Job, bool]:
        """See ``jobs.backends.JobStore.create``. With a key: one
        transaction writes the key (if free: absent, older than 24 h, or
        naming a job that is gone) and the job; when the key is taken,
        its job is returned (same options) or ``IdempotencyConflict`` raised."""
        values = {name: getattr(job, name) for name in _FIELDS}
        values["spec"] = job.spec.to_json()
        values["status"] = str(job.status)
        values["kind"] = str(job.kind)
        item = {**self._pk(job.id), **_to_item(values)}
        if job.owner is not None:
            item["created_key"] = {"S": _created_key(job.created_at, job.id)}
        if idempotency_key is None:
            self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            return job, True
        owner = job.owner or ""
        key_pk = self._key_pk(owner, idempotency_key)
        item["idempotency_pk"] = {"S": key_pk}
        stale = "-"
        for _ in range(3):  # each turn sees the key change under it; never more than twice
            key_item = {
                "pk": {"S": key_pk},
                "job_id": {"S": job.id},
                "options": {"S": job.spec.options_key()},
                "created_at": {"N": str(_number(job.created_at))},
                "ttl": {"N": str(int(job.created_at + IDEMPOTENCY_S) + 1)},
            }
            try:
                self.db.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": key_item,
                                "ConditionExpression": "attribute_not_exists(pk) OR created_at < :window "
                                "OR job_id = :stale",
                                "ExpressionAttributeValues": {
                                    ":window": {"N": str(_number(job.created_at - IDEMPOTENCY_S))},
                                    ":stale": {"S": stale},
                                },
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": item,
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
                return job, True
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
            found = self.db.get_item(
                TableName=self.table, Key={"pk": {"S": key_pk}}, ConsistentRead=True
            ).get("Item")
            if found is None:
                continue
            earlier = self.get(found["job_id"]["S"])
            if earlier is None:
                stale = found["job_id"]["S"]  # its job is gone: the key is free
                continue
            if found["options"]["S"] != job.spec.options_key():
                raise IdempotencyConflict(idempotency_key)
            return earlier, False
        raise RuntimeError(f"Idempotency-Key {idempotency_key!r} kept changing while it was written")

    def get(self, job_id: str) -> Job | None:
        job = self._read(job_id)
        return job if job is not None and _visible(job, time.time()) else None

    def list_owned(
        self, owner: str, limit: int, before: tuple[float, str] | None, kind: JobKind = JobKind.ANALYSIS
    ) -> list[Job]:
        """See ``jobs.backends.JobStore.list_owned``: the ``by_owner`` index,
        the other kinds filtered out as the pages are read."""
        condition = "#owner = :owner"
        values: dict[str, Any] = {":owner": {"S": owner}}
        if before is not None:
            condition += " AND created_key < :before"
            values[":before"] = {"S": _created_key(*before)}
        pages = self.db.get_paginator("query").paginate(
            TableName=self.table,
            IndexName="by_owner",
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
        )
        now, found = time.time(), []
        for page in pages:
            for item in page.get("Items", []):
                job = _from_item(item)
                if job.kind == kind and _visible(job, now):
                    found.append(job)
                    if len(found) == limit:
                        return found
        return found

    def start(self, job_id: str, attempt: int) -> Job | None:
        item = self._update(
            job_id,
            "SET #status = :running, #stage = :stage, #attempts = :attempt, #updated_at = :now",
            _IS_LIVE,
            {
                **_LIVE_VALUES,
                ":stage": {"S": "analyzing"},
                ":attempt": {"N": str(attempt)},
                ":now": {"N": str(_number(time.time()))},
            },
            new=True,
        )
        return None if item is None else _from_item(item)

    def progress(self, job_id: str, stage: str, frames_done: int, frames_total: int | None) -> bool:
        expression = "SET #stage = :stage, #frames_done = :done, #updated_at = :now"
        values = {
            ":running": {"S": str(JobStatus.RUNNING)},
            ":stage": {"S": stage},
            ":done": {"N": str(frames_done)},
            ":now": {"N": str(_number(time.time()))},
        }
        if frames_total is not None:
            expression += ", #frames_total = :total"
            values[":total"] = {"N": str(frames_total)}
        return self._update(job_id, expression, "#status = :running", values) is not None

    def _end(self, job_id: str, status: JobStatus, ttl_s: float, extra: dict[str, Any]) -> bool:
        """Move a live job to a final ``status``, once (see ``finish``)."""
        job = self._read(job_id)
        if job is None or job.status not in LIVE:
            return False
        now = time.time()
        values = {
            "status": str(status),
            "stage": "done",
            "updated_at": now,
            "expires_at": now + ttl_s,
            "ttl": int(now + ttl_s) + 1,
            "expiry_part": "finished",
            **{name: value for name, value in extra.items() if value is not None},
        }
        if job.callback_url is not None:  # fixed at creation: reading it first is safe
            values["webhook"] = values["webhook_due"] = "pending"
        attributes = _to_item(values)
        names = [name for name in attributes if name != "status"]
        expression = "SET #status = :status, " + ", ".join(f"#{name} = :{name}" for name in names)
        bound = {f":{name}": value for name, value in attributes.items()}
        return self._update(job_id, expression, _IS_LIVE, {**_LIVE_VALUES, **bound}) is not None

    def finish(self, job_id: str, outcome: Outcome, ttl_s: float) -> bool:
        """See ``jobs.backends.JobStore.finish``: one ``UpdateItem`` whose
        condition is that the job is live."""
        extra = {
            "result_key": outcome.result_key,
            "annotated_id": outcome.annotated_id,
            "annotated_expires_at": outcome.annotated_expires_at,
            "error_code": outcome.error_code,
            "error_message": outcome.error_message,
        }
        return self._end(job_id, outcome.status, ttl_s, extra)

    def cancel(self, job_id: str, ttl_s: float) -> Job | None:
        before = self.get(job_id)
        if before is None or before.status not in LIVE:
            return before
        if not self._end(job_id, JobStatus.CANCELED, ttl_s, {}):
            return self.get(job_id)  # it ended meanwhile
        return before

    def forget_upload(self, job_id: str) -> None:
        self._update(job_id, "REMOVE #upload_key", "attribute_exists(#pk)", {})

    def set_webhook(self, job_id: str, state: str) -> None:
        self._update(
            job_id,
            "SET #webhook = :state REMOVE #webhook_due, #webhook_claim",
            "attribute_exists(#pk)",
            {":state": {"S": state}},
        )

    def pending_webhooks(self) -> list[Job]:
        """Finished jobs whose webhook is pending and that no live worker
        has claimed: each is claimed (a conditional write) for
        ``webhook_claim_s``, so that of many workers one sends it."""
        now = time.time()
        pages = self.db.get_paginator("query").paginate(
            TableName=self.table,
            IndexName="webhooks",
            KeyConditionExpression="webhook_due = :pending",
            ExpressionAttributeValues={":pending": {"S": "pending"}},
        )
        claimed = []
        for page in pages:
            for item in page.get("Items", []):
                job_id = item["pk"]["S"].removeprefix("job#")
                taken = self._update(
                    job_id,
                    "SET #webhook_claim = :until",
                    "#webhook_due = :pending "
                    "AND (attribute_not_exists(#webhook_claim) OR #webhook_claim < :now)",
                    {
                        ":pending": {"S": "pending"},
                        ":until": {"N": str(_number(now + self.webhook_claim_s))},
                        ":now": {"N": str(_number(now))},
                    },
                    new=True,
                )
                if taken is not None and JobStatus(taken["status"]["S"]) in FINAL:
                    claimed.append(_from_item(taken))
        return claimed

    def delete(self, job_id: str) -> None:
        old = self.db.delete_item(TableName=self.table, Key=self._pk(job_id), ReturnValues="ALL_OLD")
        key_pk = old.get("Attributes", {}).get("idempotency_pk")
        if key_pk is None:
            return
        try:
            self.db.delete_item(
                TableName=self.table,
                Key={"pk": key_pk},
                ConditionExpression="job_id = :id",
                ExpressionAttributeValues={":id": {"S": job_id}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # the key names another job now
                raise

    def expired(self, now: float, limit: int) -> list[Job]:
        items = self.db.query(
            TableName=self.table,
            IndexName="by_expiry",
            KeyConditionExpression="expiry_part = :finished AND expires_at <= :now",
            ExpressionAttributeValues={":finished": {"S": "finished"}, ":now": {"N": str(_number(now))}},
            Limit=limit,
        ).get("Items", [])
        return [_from_item(item) for item in items]

    def counts(self) -> dict[JobStatus, int]:
        """Jobs per status (a scan: for tests and operators, not for requests)."""
        counts: dict[JobStatus, int] = {}
        pages = self.db.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression="#status",
            FilterExpression="begins_with(pk, :job)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":job": {"S": "job#"}},
        )
        for page in pages:
            for item in page.get("Items", []):
                status = JobStatus(item["status"]["S"])
                counts[status] = counts.get(status, 0) + 1
        return counts
