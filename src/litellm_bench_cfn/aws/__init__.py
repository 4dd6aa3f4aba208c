"""The AWS edge: deploying a stack (deploy: change sets, waits, S3, failure report), reading a live
stack, publishing templates, console links, parameter pre-flight.

Pure helpers (param_rules, launch) need no AWS at all; stack, publish and deploy take boto3 clients made
by `clients.AwsTarget`, so region, profile and endpoint come from arguments or the standard
environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL).
"""
