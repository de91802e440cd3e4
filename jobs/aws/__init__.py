"""The job engine's AWS backends (``JOB_BACKEND=aws``): job records in
DynamoDB (``jobs.aws.dynamodb``), messages in SQS (``jobs.aws.sqs``),
uploads and results in S3 (``jobs.aws.s3``). They implement the seams of
``jobs.backends`` so that any number of API and worker tasks share one
state; ``jobs.aws.clients`` builds the boto3 clients they talk through.
"""
