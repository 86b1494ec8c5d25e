set log_interval 1e-300
set instances 9223372036854775807
set rate-scale -1
set end nan
set num-gpu-blocks 999999999999
hardware /dev/null
model /dev/zero
scheduler sjf:predictor=noisy-oracle,sigma=1e308
config
