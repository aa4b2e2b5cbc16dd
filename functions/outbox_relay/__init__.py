"""The outbox relay function: DynamoDB stream of an outbox table -> SNS topics and SQS queues."""
