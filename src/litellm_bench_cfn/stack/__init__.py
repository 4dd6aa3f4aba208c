"""One module per concern of the CloudFormation stack; `litellm_bench_cfn.template` composes them."""
