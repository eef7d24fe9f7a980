"""sendrail: the shared package behind every function (shipped as the Lambda layer).

Layers, from the outside in:
- ``domain``: pure logic (limits, windows, mailbox choice, MIME, templates, retry policy).
- ``services``: use cases that combine the domain with the ports it declares.
- ``storage`` and ``providers``: adapters for DynamoDB/SQS/KMS and for mail providers.
"""
