#!/usr/bin/env bash
# Reproduces the README's learned-scheduler table: for each shared bursty trace, PPO is trained on
# the first part and evaluated on the held-back rest, each part at its own FCFS capacity (the rate
# where vLLM just keeps 90% of requests within the SLOs, from `sweep --find-capacity`). The
# decision interval is chosen among 0, 1 and 5 s on a validation split inside the training part
# only. Run from the repository root after `make release`; writes results under $OUT.
set -euo pipefail
S=${SMARTSERVE:-.build/release/smartserve}
OUT=${OUT:-/tmp/smartserve-rl}
DATA=../shared/data
REWARD="ttft=1,goodput=1,frag=0.2"
mkdir -p "$OUT"

# name | file | hardware flags | load flags | train window | train scale | validation split (sub-train, validation) | test window | test scale
run_trace() {
  local name=$1 file=$2 hw=$3 load=$4 train=$5 tscale=$6 subtrain=$7 val=$8 test=$9 escale=${10}
  local best="" bestv=-1e9
  for iv in 0 1 5; do
    $S rl train --algo ppo --dataset "$DATA/$file" $subtrain --rate-scale $tscale $hw $load --steps 100000 --interval $iv \
      --reward $REWARD --quiet --out "$OUT/$name-val$iv.json" >/dev/null
    v=$($S rl eval "$OUT/$name-val$iv.json" $val --rate-scale $tscale $hw $load --baselines vllm --json |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["rewards"]; print([v["per_request"] for k,v in r.items() if k.startswith("rl:")][0])')
    echo "$name: interval $iv s, validation reward per request $v"
    if python3 -c "import sys; sys.exit(0 if $v > $bestv else 1)"; then best=$iv; bestv=$v; fi
  done
  echo "$name: chosen interval $best s"
  $S rl train --algo ppo --dataset "$DATA/$file" $train --rate-scale $tscale $hw $load --steps 100000 --interval $best \
    --reward $REWARD --quiet --out "$OUT/$name.json"
  $S rl eval "$OUT/$name.json" $test --rate-scale $escale $hw $load --baselines vllm,sarathi,sjf | tee "$OUT/$name-eval.txt"
}

A100="--hardware A100-80G --model_name meta-llama/Llama-3.1-8B --max-num-seqs 32"
H100="--hardware H100 --model_name meta-llama/Llama-3.1-8B --max-num-seqs 32 --slo-ttft 10"
run_trace azure-code azure2023/AzureLLMInferenceTrace_code.csv "$A100" "" "--end 2400" 0.1297 "--end 1800" "--start 1800 --end 2400" "--start 2400" 0.1671
run_trace burstgpt burstgpt/BurstGPT_1_first400.csv "$A100" "" "--end 35100" 166 "--end 34000" "--start 34000 --end 35100" "--start 35100" 174
run_trace mooncake mooncake/synthetic_trace.jsonl "$H100" "--max-context 131072 --context-policy drop" "--end 700" 0.3639 "--end 500" "--start 500 --end 700" "--start 700" 0.3152
