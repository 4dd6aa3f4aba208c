"""The AWS edge: reading a live stack, publishing templates, console links, parameter pre-flight.

Pure helpers (param_rules, launch) need no AWS at all; stack and publish take boto3 clients made
by `clients.make_client`, so region, profile and endpoint come from arguments or the standard
environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL).
"""
