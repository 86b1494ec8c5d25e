load dataset/sharegpt-like-100.tsv
run vllm-default
scheduler orca reserve=max max_len=2048
run orca-max
scheduler llmservingsim
run llmservingsim
