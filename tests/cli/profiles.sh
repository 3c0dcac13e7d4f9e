#!/bin/sh
# The 2026 hardware profiles end to end: `parplan validate` reads each; `parplan search` on
# each returns a plan for Llama 3 70B (512 GPUs) and 405B (2048 GPUs) that fits, keeps t inside
# the scale-up domain and 8 kv heads, states its FLOP convention, and with --precision auto
# trains in fp8 where the device has it; an fp8 plan on an A100 is refused with one line naming
# the profile; the NVL72 profiles report 4-GPU hosts in a 72-GPU domain, and a t = 16 plan there
# keeps its precision in the plan file and launches on 4-GPU nodes.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

for hw in dgx-h200 dgx-b200 dgx-b300 gb200-nvl72 gb300-nvl72 mi300x mi325x mi355x; do
	H=hwprofiles/$hw.json
	$P validate --hw $H >"$tmp/v" 2>&1 || die "$hw: validate: $(cat "$tmp/v")"
	for m in "llama3-70b 512 512" "llama3-405b 2048 1024"; do
		set -- $m
		$P search --model models/$1.json --hw $H --gpus $2 --global-batch $3 --precision auto \
			--fp8-param-gather --top 1 --json >"$tmp/s.json" 2>"$tmp/err" ||
			{ die "$hw $1: search: $(head -c 300 "$tmp/err")"; continue; }
		python3 - "$tmp/s.json" "$hw" "$1" "$2" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
hw, model, gpus = sys.argv[2], sys.argv[3], int(sys.argv[4])
p = r["plans"][0]
g = p["global"]
def bad(msg):
    sys.exit(f"FAIL: {hw} {model}: {msg}")
if not p["feasible"]:
    bad("best plan does not fit")
if g["t"] * g["p"] * g["d"] * g.get("cp", 1) != gpus:
    bad(f"t*p*d = {g['t']}*{g['p']}*{g['d']} is not {gpus}")
block = 64 if "nvl72" in hw else 8
if g["t"] > block or 8 % g["t"]:
    bad(f"t = {g['t']} outside the domain block or the 8 kv heads")
# every 2026 device has fp8 tensor cores: auto trains in fp8 or mxfp8, never slower than bf16
if g.get("precision", "bf16") not in ("fp8", "mxfp8"):
    bad(f"precision {g.get('precision', 'bf16')} where the device has fp8")
if "no recomputation" not in p["flop_convention"] or "bf16 peak" not in p["flop_convention"]:
    bad("no FLOP convention")
if not (0 < p["mfu"] < 2 and 0 < p["mfu_lp"] <= 1):
    bad(f"MFU {p['mfu']} (bf16 peak), {p['mfu_lp']} (fp8 peak) out of range")
if abs(p["mfu_lp"] * p["lp_peak_tflops"] - p["mfu"] * p["mfu_peak_tflops"]) > 1e-6 * p["mfu_peak_tflops"]:
    bad("the two MFUs are not the same model FLOPs")
if p["hardware_tflops_per_gpu"] > p["lp_peak_tflops"]:
    bad("above the fp8 peak")
PY
	done
done

# domains: NVL72 = 4-GPU hosts (launchers) in a 72-GPU NVLink domain
$P validate --hw hwprofiles/gb200-nvl72.json | grep -q "4 x .* per node, 72 per scale-up domain" ||
	die "gb200-nvl72: validate does not show the domain"

# the text table names the precision and the MFU's peak
$P search --model models/llama3-70b.json --hw hwprofiles/dgx-h200.json --gpus 64 --global-batch 64 \
	--precision fp8 --top 1 >"$tmp/t" 2>&1 || die "h200 fp8 search"
grep -q "prec .*MFU(bf16)" "$tmp/t" && grep -q "^1 .* fp8 " "$tmp/t" &&
	grep -q "dense bf16 peak of 989 TFLOP/s; plan 1 against the dense fp8 peak of 1979" "$tmp/t" ||
	die "fp8 table: $(cat "$tmp/t")"

# fp8 on a device without it: exit 2, one line naming the profile, for search and cost
for cmd in "search --gpus 16 --global-batch 16" \
	"cost --t 8 --p 2 --d 1 --micro-batch 1 --global-batch 16"; do
	$P $cmd --model models/llama3-8b.json --hw hwprofiles/dgx-a100-80g.json --precision fp8 \
		>"$tmp/o" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -q "dgx-a100-80g.*no device.peak_tflops.fp8" "$tmp/err" ||
		die "$cmd on A100: exit $rc: $(cat "$tmp/err")"
done
# mxfp8 on Hopper: refused the same way
$P search --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --gpus 16 --global-batch 16 \
	--precision mxfp8 >"$tmp/o" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "no device.peak_tflops.mxfp8" "$tmp/err" || die "mxfp8 on H100: $(cat "$tmp/err")"
$P search --model models/llama3-8b.json --hw hwprofiles/dgx-h100.json --gpus 16 --global-batch 16 \
	--precision fp4 >"$tmp/o" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--precision: unknown precision" "$tmp/err" || die "--precision fp4: $(cat "$tmp/err")"

# a GB200 NVL72 plan with t = 16 across four 4-GPU trays: the plan file keeps precision and the
# fp8 parameter gather and re-scores to the same time; Megatron-LM's script still launches
# 4 GPUs per node (the compute tray) and carries the fp8 flags
$P cost --model models/gpt3-175b.json --hw hwprofiles/gb200-nvl72.json --t 16 --p 4 --d 8 \
	--micro-batch 1 --global-batch 64 --sequence-parallel --distributed-optimizer \
	--precision fp8 --fp8-param-gather --json -o "$tmp/nvl.json" >"$tmp/c1.json" 2>"$tmp/err" ||
	die "gb200 t=16 fp8 cost: $(cat "$tmp/err")"
$P cost --plan "$tmp/nvl.json" --json >"$tmp/c2.json" 2>"$tmp/err" || die "cost --plan: $(cat "$tmp/err")"
python3 - "$tmp/nvl.json" "$tmp/c1.json" "$tmp/c2.json" <<'PY' || fail=1
import json, sys
plan, a, b = (json.load(open(f)) for f in sys.argv[1:4])
g = plan["global"]
if g.get("precision") != "fp8" or g.get("fp8_param_gather") is not True:
    sys.exit(f"FAIL: plan file global lost the precision: {g}")
if plan["node_devices"] != 4:
    sys.exit(f"FAIL: node_devices {plan['node_devices']}, want the 4-GPU tray")
if a["iteration_s"] != b["iteration_s"] or b["precision"] != "fp8":
    sys.exit(f"FAIL: re-scored {b['iteration_s']} ({b['precision']}), was {a['iteration_s']}")
PY
$P emit --plan "$tmp/nvl.json" --format megatron -o "$tmp/m.sh" 2>"$tmp/err" || die "emit: $(cat "$tmp/err")"
grep -q "^GPUS_PER_NODE=4$" "$tmp/m.sh" && grep -q "^NNODES=128$" "$tmp/m.sh" &&
	grep -q -- "--fp8-format hybrid" "$tmp/m.sh" && grep -q -- "--fp8-param-gather" "$tmp/m.sh" &&
	grep -q -- "--tensor-model-parallel-size 16" "$tmp/m.sh" || die "megatron script for the NVL72 plan"

[ $fail -eq 0 ] && echo "profiles: 8 profiles x Llama 3 70B and 405B searched; fp8 refusals ok"
exit $fail
