#!/bin/sh
# --tokens and --price-per-gpu-hour on cost and search: days, GPU-hours, cost and energy at the
# profile's TDP follow from the plan's throughput; search --objective time|cost.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
M=models/hf/llama-3.1-70b.json
H=hwprofiles/dgx-h100.json
plan="--t 8 --p 4 --d 32 --micro-batch 1 --global-batch 1024 --sequence-parallel --distributed-optimizer"

# shellcheck disable=SC2086
"$P" cost --model $M --hw $H $plan --tokens 15e12 --price-per-gpu-hour 2.5 --json >"$tmp/c.json" || fail=1
# shellcheck disable=SC2086
"$P" cost --model $M --hw hwprofiles/tpu-v4.json --t 8 --p 4 --d 32 --micro-batch 1 --global-batch 1024 \
	--tokens 1e12 --json >"$tmp/tpu.json" || fail=1
python3 - "$tmp" <<'PY' || fail=1
import json, sys
d = sys.argv[1]
c = json.load(open(f"{d}/c.json"))
t = c["training"]
gpus = 8 * 4 * 32
s = 15e12 / c["tokens_per_s"]
assert abs(t["days"] - s / 86400) < 1e-9 * t["days"], t
assert abs(t["gpu_hours"] - s * gpus / 3600) < 1e-6 * t["gpu_hours"], t
assert abs(t["cost"] - 2.5 * t["gpu_hours"]) < 1e-6 * t["cost"], t
assert abs(t["energy_kwh"] - t["gpu_hours"] * 0.700) < 1e-6 * t["energy_kwh"], t   # H100 SXM TDP 700 W
assert t["tokens"] == 15e12
# a profile without a TDP and no price: null, not a made-up number
u = json.load(open(f"{d}/tpu.json"))["training"]
assert u["energy_kwh"] is None and u["cost"] is None and u["days"] > 0, u
PY
# shellcheck disable=SC2086
"$P" cost --model $M --hw $H $plan --tokens 15e12 --price-per-gpu-hour 2.5 | grep -q '^training 1.5e+13 tokens: .* days, .* GPU-hours, cost .* at 2.5 per GPU-hour, .* MWh at 700 W TDP$' ||
	{ echo "FAIL: cost's training line"; fail=1; }

# search: every plan carries its training object; time and cost rank alike at one GPU count
for obj in time cost; do
	"$P" search --model $M --hw $H --gpus 256 --global-batch 512 --top 5 --tokens 1e12 \
		--price-per-gpu-hour 3 --objective $obj --json >"$tmp/s-$obj.json" || fail=1
done
python3 - "$tmp" <<'PY' || fail=1
import json, sys
d = sys.argv[1]
a, b = (json.load(open(f"{d}/s-{o}.json")) for o in ("time", "cost"))
assert a["search"]["objective"] == "time" and b["search"]["objective"] == "cost"
costs = [p["training"]["cost"] for p in b["plans"]]
assert costs == sorted(costs) and len(costs) == 5, costs
assert [p["iteration_s"] for p in a["plans"]] == [p["iteration_s"] for p in b["plans"]]
for p in b["plans"]:
    assert abs(p["training"]["cost"] - 3 * 256 * 1e12 / p["tokens_per_s"] / 3600) < 1e-6 * p["training"]["cost"]
PY

bad() {
	"$P" "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL: $* -> exit $rc"; cat "$tmp/err"; fail=1; }
}
bad search --model $M --hw $H --gpus 256 --global-batch 512 --objective cost --tokens 1e12
bad search --model $M --hw $H --gpus 256 --global-batch 512 --objective money
# shellcheck disable=SC2086
bad cost --model $M --hw $H $plan --tokens lots
# shellcheck disable=SC2086
bad cost --model $M --hw $H $plan --price-per-gpu-hour -1
echo "training: days, GPU-hours, cost and energy checked on cost and search"
exit $fail
