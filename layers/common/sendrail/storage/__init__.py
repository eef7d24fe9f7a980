"""Data access: the only code that talks to DynamoDB (pynamodb), SQS and KMS (botocore clients)."""
