#!/usr/bin/env bash
# Reproduces the README's prediction-orchestrated table. For each shared bursty trace: the
# `smart` variant is chosen on the first part of the trace (at that part's FCFS capacity, the
# rate where vLLM keeps 90% of requests within the SLOs) by SLO attainment, then evaluated on the
# held-back rest at its own FCFS capacity (compare, with paired bootstrap CIs) and by capacity
# (sweep --find-capacity). The length predictor learns online (`learned`), so no labels of the
# evaluated part are seen before each request's label delay. Run from the repository root after
# `make release`; writes results under $OUT.
set -euo pipefail
S=${SMARTSERVE:-.build/release/smartserve}
OUT=${OUT:-/tmp/smartserve-smart}
DATA=${SMARTSERVE_DATA:-../shared/data}
mkdir -p "$OUT"
VARIANTS="smart:predictor=learned smart:predictor=learned,calm_budget=256 smart:predictor=learned,calm_budget=1024 smart:predictor=learned,fallback=sarathi"

# name | file | flags | train window | train scale | test window | test scale
run_trace() {
  local name=$1 file=$2 flags=$3 train=$4 tscale=$5 test=$6 escale=$7
  local best="" bestv=-1
  for v in $VARIANTS; do
    a=$($S run --scheduler "$v" --dataset "$DATA/$file" $train --rate-scale $tscale $flags --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["slo_attainment"])')
    echo "$name: training part, $v: attainment $a"
    if python3 -c "import sys; sys.exit(0 if $a > $bestv else 1)"; then best=$v; bestv=$a; fi
  done
  echo "$name: chosen $best"
  $S compare --schedulers "vllm,sarathi,$best" --dataset "$DATA/$file" $test --rate-scale $escale $flags | tee "$OUT/$name-compare.txt"
  $S sweep --find-capacity --schedulers "vllm,sarathi,$best" --dataset "$DATA/$file" $test $flags | tee "$OUT/$name-capacity.txt"
}

A100="--hardware A100-80G --model_name meta-llama/Llama-3.1-8B --max-num-seqs 32"
H100="--hardware H100 --model_name meta-llama/Llama-3.1-8B --max-num-seqs 32 --slo-ttft 10 --max-context 131072 --context-policy drop"
run_trace azure-code azure2023/AzureLLMInferenceTrace_code.csv "$A100" "--end 2400" 0.1297 "--start 2400" 0.1671
run_trace burstgpt burstgpt/BurstGPT_1_first400.csv "$A100" "--end 35100" 166 "--start 35100" 174
run_trace mooncake mooncake/synthetic_trace.jsonl "$H100" "--end 700" 0.3639 "--start 700" 0.3152

# Autoscaling on the whole Azure code trace: a fixed fleet sized for the peak, reactive (HPA) and
# forecast-driven scaling, each at the same target utilisation and cold start.
F="$DATA/azure2023/AzureLLMInferenceTrace_code.csv"
for fleet in "--instances 8" "--autoscale reactive:max=8,target_util=0.6,cold_start=20s" "--autoscale forecast:model=holt,horizon=30s,target_util=0.6,cold_start=20s,min=1,max=8"; do
  echo "== $fleet"
  $S run --dataset "$F" $A100 --router least-outstanding $fleet | grep -E "^SLO|^fleet"
done | tee "$OUT/autoscale.txt"
