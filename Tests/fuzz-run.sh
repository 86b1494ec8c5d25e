#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each: fuzz-run.sh FUZZ_BIN SMARTSERVE WORKDIR SECONDS.
# Seeds are made here (never copied from ../shared/data); a crash is kept as a regression input.
set -u
fuzz="$1"; smartserve="$2"; work="$3"; seconds="$4"
root=$(pwd)
status=0
seeds="$work/seeds"
rm -rf "$seeds"; mkdir -p "$seeds"/{traces,series,tokenizer,shell,runs}
cp dataset/*.tsv dataset/*.csv "$seeds/traces/" 2>/dev/null
for f in tsv jsonl burstgpt azure mooncake vidur splitwise vllm-measured; do
    "$smartserve" dataset convert dataset/sharegpt-like-100.tsv "$seeds/traces/sample.$f" --to "$f" >/dev/null 2>&1 || true
done
for f in "$seeds"/traces/*; do head -c 2000 "$f" > "$f.head"; done
printf 'timestamp,value\n0,3\n1,5\n2,4\n3,7\n' > "$seeds/series/a.csv"
printf 'timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,2\n' > "$seeds/series/b.csv"
cp sessions/examples/*/transcript.sls "$seeds/shell/" 2>/dev/null
printf "load 'my file.tsv' --req_num 10  # comment\nset a \"b c\" d\\\\ e\n" > "$seeds/tokenizer/a.txt"
cp "$seeds"/shell/* "$seeds/tokenizer/"
printf 'scheduler sjf:predictor=noisy-oracle,sigma=0.5\nset max-num-seqs 8\nhardware H100\nmodel Qwen/Qwen3-30B-A3B\ndescribe orca\nconfig\n' > "$seeds/shell/b.sls"
for f in sessions/examples/*/runs/*/; do n=$(basename "$f"); head -c 3000 "$f/requests.csv" > "$seeds/runs/$n.requests.csv"; head -c 2000 "$f/timeseries.csv" > "$seeds/runs/$n.timeseries.csv"; done
for target in traces series tokenizer shell runs; do
    corpus="$work/corpus/$target"; crashes="$work/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    echo "fuzzing $target for ${seconds}s"
    SMARTSERVE_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no "$fuzz" "$corpus" "$seeds/$target" \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/" \
        -print_final_stats=1 > "$work/$target.log" 2>&1
    code=$?
    grep -E "^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb" "$work/$target.log" | tr '\n' ' '; echo
    if [ $code -ne 0 ] || ls "$crashes"/* >/dev/null 2>&1; then
        echo "CRASH in $target: see $work/$target.log"
        mkdir -p "$root/Tests/FuzzRegressions/$target"
        cp "$crashes"/* "$root/Tests/FuzzRegressions/$target/" 2>/dev/null
        tail -20 "$work/$target.log"
        status=1
    fi
done
exit $status
