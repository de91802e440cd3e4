"""``jobs.backends.JobQueue`` on an SQS standard queue with a dead-letter
queue.

SQS does what ``jobs.backends`` asks of a queue: a received message is
invisible for its visibility timeout (the lease), ``ChangeMessageVisibility``
extends it (the heartbeat), ``DeleteMessage`` removes it, and each message
counts its receives (``ApproximateReceiveCount``). The queue's redrive
policy moves a message received ``maxReceiveCount`` times, and not deleted,
into the dead-letter queue: its worker died that many times. This queue
then hands it to a worker as a ``DeadLetter`` lease, whose receive count is
past every attempt, so the worker fails its job with ``worker_lost``
(``jobs.worker.JobWorker.run_job``). A dead letter stays in the DLQ for
inspection until the DLQ's retention ends; each receive hides it for 12 h.

SQS may accept a stale receipt handle (one from before the message was
received again) without error, so a worker whose heartbeat came too late
is not always told that it lost its lease: that a job is finished once
rests on the job store's conditional finish, not on the queue.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from jobs.aws.clients import client, error_code
from jobs.backends import Lease

#: Longest visibility timeout SQS allows, in s (12 h): how long a dead
#: letter whose job was failed stays hidden before it is seen again.
MAX_VISIBILITY_S = 43200
#: Least time between two looks into the dead-letter queue, in s.
DLQ_POLL_S = 5.0
#: Errors SQS gives for a receipt handle that no longer holds the message.
_LOST = {
    "ReceiptHandleIsInvalid",
    "InvalidParameterValue",
    "MessageNotInflight",
    "AWS.SimpleQueueService.MessageNotInflight",
}


@dataclass(frozen=True)
class DeadLetter(Lease):
    """A message received from the dead-letter queue."""


def max_receive_count(sqs: Any, queue_url: str) -> tuple[int, str]:
    """``maxReceiveCount`` and the DLQ's URL of ``queue_url``'s redrive policy.

    Raises:
        ValueError: the queue has no redrive policy.
    """
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    if "RedrivePolicy" not in attributes:
        raise ValueError(f"queue {queue_url} has no redrive policy (a dead-letter queue is required)")
    policy = json.loads(attributes["RedrivePolicy"])
    dlq_name = policy["deadLetterTargetArn"].rsplit(":", 1)[-1]
    dlq_account = policy["deadLetterTargetArn"].split(":")[4]
    dlq_url = sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=dlq_account)["QueueUrl"]
    return int(policy["maxReceiveCount"]), dlq_url


class SQSJobQueue:
    """The job queue on SQS.

    Args:
        queue_url: the queue (with a redrive policy to a DLQ).
        wait_s: long-poll time of a receive, in s (0-20): an idle worker
            makes one request per ``wait_s`` instead of spinning, and a
            message sent meanwhile is returned at once.
        sqs: a boto3 SQS client (default: ``jobs.aws.clients.client("sqs")``).

    Raises:
        ValueError: the queue has no dead-letter queue.
    """

    def __init__(self, queue_url: str, wait_s: float = 1.0, sqs: Any | None = None) -> None:
        self.sqs = sqs if sqs is not None else client("sqs")
        self.queue_url, self.wait_s = queue_url, int(max(0, min(20, wait_s)))
        self.max_receive_count, self.dlq_url = max_receive_count(self.sqs, queue_url)
        self._dlq_polled_at = 0.0

    def send(self, job_id: str) -> None:
        """Send a message whose body is the job id."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=job_id)

    def _receive(self, queue_url: str, visibility_s: int, wait_s: int) -> dict[str, Any] | None:
        messages = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        return messages[0] if messages else None

    def receive(self, lease_s: float) -> Lease | None:
        """One message hidden for ``lease_s`` (rounded up to whole seconds),
        long-polling up to ``wait_s``; else, at most every ``DLQ_POLL_S``, a
        dead letter; else ``None``."""
        message = self._receive(self.queue_url, max(1, math.ceil(lease_s)), self.wait_s)
        if message is not None:
            receives = int(message["Attributes"]["ApproximateReceiveCount"])
            return Lease(message["Body"], message["ReceiptHandle"], receives)
        if time.monotonic() - self._dlq_polled_at < DLQ_POLL_S:
            return None
        self._dlq_polled_at = time.monotonic()
        message = self._receive(self.dlq_url, MAX_VISIBILITY_S, 0)
        if message is None:
            return None
        receives = max(int(message["Attributes"]["ApproximateReceiveCount"]), self.max_receive_count + 1)
        return DeadLetter(message["Body"], message["ReceiptHandle"], receives)

    def extend(self, lease: Lease, lease_s: float) -> bool:
        """``ChangeMessageVisibility``; ``False`` when SQS says the receipt
        no longer holds the message (it was received again or deleted)."""
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=lease.receipt,
                VisibilityTimeout=max(1, math.ceil(lease_s)),
            )
        except ClientError as exc:
            if error_code(exc) in _LOST:
                return False
            raise
        return True

    def delete(self, lease: Lease) -> None:
        """``DeleteMessage``; a dead letter is kept in the DLQ (see the module)."""
        if isinstance(lease, DeadLetter):
            return
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=lease.receipt)
        except ClientError as exc:
            if error_code(exc) not in _LOST:
                raise
