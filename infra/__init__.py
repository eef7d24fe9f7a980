"""The CDK app (aws-cdk-lib) that defines sendrail in AWS."""
