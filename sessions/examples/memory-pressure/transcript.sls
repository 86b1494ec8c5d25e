load dataset/bursty-500.burstgpt.csv --max-context 4096
hardware H100
set num-gpu-blocks 600
set max-num-seqs 128
run recompute
scheduler vllm preemption=swap
run swap
set no-chunked-prefill on
run swap-no-chunking
