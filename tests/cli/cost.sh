#!/bin/sh
# parplan cost: table, JSON keys, plan file round trip, invalid and infeasible plans, and the
# accuracy gate against Narayanan et al. SC21 Table 1 (scripts/validate-published --check).
set -u
P=${PARPLAN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
M=models/gpt3-175b.json
H=hwprofiles/dgx-a100-80g.json
PLAN="--t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536 --recompute selective --sequence-parallel --distributed-optimizer"

"$P" cost --model $M --hw $H $PLAN >"$tmp/table" || { echo "FAIL: cost table"; fail=1; }
grep -q "pipeline bubble" "$tmp/table" && grep -q "peak" "$tmp/table" || { echo "FAIL: table lacks rows"; fail=1; }
"$P" cost --model $M --hw $H $PLAN --gpus 1024 --json -o "$tmp/plan.json" >"$tmp/a.json" || { echo "FAIL: cost --json -o"; fail=1; }
"$P" cost --plan "$tmp/plan.json" --json >"$tmp/b.json" || { echo "FAIL: cost --plan"; fail=1; }
python3 - "$tmp/a.json" "$tmp/b.json" "$tmp/plan.json" <<'PY' || fail=1
import json, sys
a, b, plan = (json.load(open(f)) for f in sys.argv[1:])
keys = ["feasible", "iteration_s", "tokens_per_s", "model_tflops_per_gpu", "hardware_tflops_per_gpu", "mfu", "hfu"]
for k in keys: assert k in a, k
for k in ["compute_s", "tp_comm_s", "pp_comm_s", "bubble_s", "dp_comm_s", "optimizer_s"]: assert k in a["time"], k
for k in ["weights_gib", "grads_gib", "optimizer_gib", "activations_gib", "peak_gib", "capacity_gib"]: assert k in a["memory"], k
assert a == b, "plan file round trip changed the prediction"
assert a["feasible"] and 0.3 < a["mfu"] < 0.7, a["mfu"]
assert abs(sum(a["time"].values()) / a["iteration_s"] - 1) < 1e-9
assert plan["format"] == "parplan-plan/1" and plan["global"]["t"] == 8 and plan["gpus"] == 1024
assert abs(plan["predicted"]["iteration_s"] - a["iteration_s"]) < 1e-9 * a["iteration_s"]
# per-stage per-micro-batch F, B (input grad), W (weight grad), hidden communication, the stack
assert a["stack"] == "megatron-core" and plan["stack"] == "megatron-core", a.get("stack")
assert a["stage_f_s"] > 0 and a["stage_b_s"] > 0 and a["stage_w_s"] > 0
for k in ["tp_comm_s", "pp_comm_s", "dp_comm_s"]: assert a["hidden"][k] >= 0, k
PY

# --stack: a name or a file; the table names it and the overlaps in force; a bad name is exit 2
"$P" cost --model $M --hw $H $PLAN --stack megatron-sc21 >"$tmp/sc21" || { echo "FAIL: --stack megatron-sc21"; fail=1; }
grep -q "^stack: megatron-sc21" "$tmp/sc21" || { echo "FAIL: table lacks the stack"; fail=1; }
"$P" cost --model $M --hw $H $PLAN --tp-comm-overlap --overlap-grad-reduce --overlap-param-gather --stack stacks/megatron-core.json >"$tmp/mc" || { echo "FAIL: --stack FILE"; fail=1; }
grep -q "^stack: megatron-core, TP comm overlapped, grad reduce overlapped, param all-gather overlapped, pipeline p2p overlapped$" "$tmp/mc" || { echo "FAIL: overlaps not shown: $(grep stack "$tmp/mc")"; fail=1; }
grep -q "^  data-parallel comm exposed: grad reduce [0-9.]* s, param all-gather [0-9.]* s$" "$tmp/mc" || { echo "FAIL: exposed DP time by overlap not shown"; fail=1; }
# only the overlaps in force: megatron-sc21 has none of the three, so asking changes nothing
"$P" cost --model $M --hw $H $PLAN --tp-comm-overlap --overlap-grad-reduce --overlap-param-gather --stack megatron-sc21 >"$tmp/sc21o" || fail=1
grep -q "^stack: megatron-sc21$" "$tmp/sc21o" || { echo "FAIL: sc21 shows overlaps it has not: $(grep stack "$tmp/sc21o")"; fail=1; }
# without the distributed optimizer the param all-gather is not overlapped (there is none)
"$P" cost --model $M --hw $H --t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536 --sequence-parallel \
	--overlap-grad-reduce --overlap-param-gather >"$tmp/nodo" || fail=1
grep -q "^stack: megatron-core, grad reduce overlapped, pipeline p2p overlapped$" "$tmp/nodo" || { echo "FAIL: overlaps not in force shown: $(grep stack "$tmp/nodo")"; fail=1; }
# --json: the overlaps in force with their exposed time; the DP parts add up to dp_comm_s
"$P" cost --model $M --hw $H $PLAN --tp-comm-overlap --overlap-grad-reduce --overlap-param-gather --json >"$tmp/mc.json" || fail=1
python3 - "$tmp/mc.json" <<'PY' || { echo "FAIL: overlaps in cost --json"; fail=1; }
import json, sys
a = json.load(open(sys.argv[1])); o = a["overlaps"]
assert set(o) == {"tp_comm_exposed_s", "grad_reduce_exposed_s", "param_gather_exposed_s", "p2p_exposed_s"}, o
assert o["tp_comm_exposed_s"] == a["time"]["tp_comm_s"] and o["p2p_exposed_s"] == a["time"]["pp_comm_s"]
assert o["grad_reduce_exposed_s"] + o["param_gather_exposed_s"] <= a["time"]["dp_comm_s"] * (1 + 1e-12)
assert a["hidden"]["tp_comm_s"] > 0 and a["hidden"]["dp_comm_s"] > 0
PY
cmp -s "$tmp/sc21" "$tmp/mc" && { echo "FAIL: the stack changed nothing"; fail=1; }
"$P" cost --model $M --hw $H $PLAN --stack no-such-stack >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown stack 'no-such-stack'" "$tmp/err" || { echo "FAIL: bad stack: $(cat "$tmp/err")"; fail=1; }

# cost --json's "global" is the plan file's "global" (both written from the settings table):
# defaults, an uneven interleaved pipeline and the overlap settings; optional keys only when set
for extra in "--p 16 --d 8" "--p 16 --d 8 --tp-comm-overlap --overlap-param-gather --overlap-grad-reduce" \
	"--p 8 --d 16 --virtual-stages 2 --first-stage-layers 6 --last-stage-layers 6"; do
	# shellcheck disable=SC2086
	"$P" cost --model $M --hw $H --t 8 --micro-batch 1 --global-batch 1536 \
		--recompute selective --sequence-parallel --distributed-optimizer $extra \
		--json -o "$tmp/g.json" >"$tmp/g.out" 2>"$tmp/err" || { echo "FAIL: cost $extra: $(cat "$tmp/err")"; fail=1; continue; }
	python3 - "$tmp/g.out" "$tmp/g.json" "$extra" <<'PY' || fail=1
import json, sys
out, plan, extra = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert list(out["global"].items()) == list(plan["global"].items()), (out["global"], plan["global"])
g = out["global"]
assert g["t"] == 8 and g["recompute"] == "selective" and g["sequence_parallel"] is True
if "--tp-comm-overlap" in extra:
    assert g["tp_comm_overlap"] is True and g["overlap_param_gather"] is True and g["overlap_grad_reduce"] is True
else:
    assert "tp_comm_overlap" not in g and "overlap_param_gather" not in g, g
if "--virtual-stages" in extra:
    assert g["schedule"] == "interleaved" and g["virtual_stages"] == 2 and g["p"] == 8
    assert g["first_stage_layers"] == 6 and g["last_stage_layers"] == 6
    # chunk c on rank c % p; each rank's layers split over its v chunks (Megatron-Core)
    assert [s["layers"] for s in plan["stages"]] == ([3] + [7] * 6 + [3]) * 2, plan["stages"]
else:
    assert "first_stage_layers" not in g and "last_stage_layers" not in g, g
PY
	# the plan file reads back to the same prediction and settings
	"$P" cost --plan "$tmp/g.json" --json >"$tmp/g2.out" 2>"$tmp/err" && cmp -s "$tmp/g.out" "$tmp/g2.out" ||
		{ echo "FAIL: cost --plan of the $extra plan: $(cat "$tmp/err")"; fail=1; }
done
"$P" emit --plan "$tmp/g.json" --format megatron -o "$tmp/g.sh" 2>"$tmp/err" &&
	grep -q -- "--decoder-first-pipeline-num-layers 6" "$tmp/g.sh" &&
	grep -q -- "--num-virtual-stages-per-pipeline-rank 2" "$tmp/g.sh" ||
	{ echo "FAIL: interleaved + uneven plan not emitted for Megatron-LM: $(cat "$tmp/err")"; fail=1; }
# the new overlap settings and --stack are refused when repeated, like every other option
for dup in "--tp-comm-overlap --tp-comm-overlap" "--overlap-param-gather --overlap-param-gather" \
	"--stack megatron-core --stack megatron-sc21" "--tp-comm-overlap=1"; do
	# shellcheck disable=SC2086
	"$P" cost --model $M --hw $H $PLAN $dup >/dev/null 2>"$tmp/err"
	[ $? -eq 2 ] && grep -q "given twice\|takes no value" "$tmp/err" || { echo "FAIL: $dup accepted: $(cat "$tmp/err")"; fail=1; }
done

# invalid plans: exit 2, one line naming the rule, nothing written
rule_model=$M
expect_rule() {
	rule=$1; shift
	"$P" cost --model "$rule_model" --hw $H "$@" -o "$tmp/never.json" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "$rule" "$tmp/err" || [ -e "$tmp/never.json" ]; then
		echo "FAIL: expected exit 2 naming '$rule', got $rc: $(cat "$tmp/err")"; fail=1
	fi
}
expect_rule "does not divide 96 heads" --t 5 --p 16 --d 8 --micro-batch 1 --global-batch 1536
expect_rule "not divisible by p\*v" --t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536 --virtual-stages 4
expect_rule "micro-batch\*d" --t 8 --p 16 --d 8 --micro-batch 5 --global-batch 1536
expect_rule "GPUs" --t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536 --gpus 512
expect_rule "sequence parallelism needs t > 1" --t 1 --p 16 --d 8 --micro-batch 1 --global-batch 1536 --sequence-parallel
expect_rule "not divisible by p=" --t 8 --p 7 --d 8 --micro-batch 1 --global-batch 1536
rule_model=tests/data/bad/graph-dangling-input.json # (a repeated --model is refused)
expect_rule "unknown tensor" --t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536
rule_model=$M

# a plan file whose stages are not its global split, or that is scored with another model
python3 - "$tmp/plan.json" "$tmp/uneven.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["stages"][0]["layers"] -= 1
p["stages"][1]["first_layer"] -= 1
p["stages"][1]["layers"] += 1
json.dump(p, open(sys.argv[2], "w"))
PY
"$P" cost --plan "$tmp/uneven.json" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "stages\[0\].layers: stage has 5 layers but the global settings give 6" "$tmp/err" || { echo "FAIL: edited stages: $(cat "$tmp/err")"; fail=1; }
"$P" cost --plan "$tmp/plan.json" --model models/gpt-310.1b.json >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "model_shape: the plan is for model" "$tmp/err" || { echo "FAIL: plan scored with another model: $(cat "$tmp/err")"; fail=1; }
"$P" cost --plan "$tmp/plan.json" --recompute none >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || { echo "FAIL: --plan with plan options accepted"; fail=1; }
expect_rule "interleaved schedule needs virtual stages v > 1" --t 8 --p 16 --d 8 --micro-batch 1 --global-batch 1536 --schedule interleaved

# -o writes through a symbolic link (the link stays a link) and into a device without replacing it
echo old >"$tmp/real.json"
ln -s real.json "$tmp/link.json"
"$P" cost --model $M --hw $H $PLAN -o "$tmp/link.json" >/dev/null || fail=1
[ -L "$tmp/link.json" ] && grep -q parplan-plan/1 "$tmp/real.json" || { echo "FAIL: -o replaced a symlink"; fail=1; }
"$P" cost --model $M --hw $H $PLAN -o /dev/null >/dev/null || fail=1
[ -c /dev/null ] || { echo "FAIL: -o /dev/null replaced the device"; fail=1; }

# infeasible: exit 0, feasible false, the table says by how much
"$P" cost --model $M --hw $H --t 1 --p 1 --d 8 --micro-batch 1 --global-batch 8 >"$tmp/inf" || { echo "FAIL: infeasible exit"; fail=1; }
grep -q "exceeds the .* usable by" "$tmp/inf" || { echo "FAIL: infeasible plan not explained"; fail=1; }
"$P" cost --model $M --hw $H --t 1 --p 1 --d 8 --micro-batch 1 --global-batch 8 --json | grep -q '"feasible":	false' || { echo "FAIL: feasible false"; fail=1; }

# ZeRO stages, FSDP, HSDP and context parallelism (issue 16): flags, plan-file round trip, rules
L8=models/llama3-8b-128k.json
H1=hwprofiles/dgx-h100.json
ZP="--t 8 --p 1 --d 2 --cp 4 --micro-batch 1 --global-batch 8 --recompute selective --sequence-parallel --fsdp --hsdp-shard 2"
"$P" cost --model $L8 --hw $H1 $ZP >"$tmp/z" || { echo "FAIL: cost --fsdp --cp"; fail=1; }
grep -q "^sharding: FSDP (ZeRO stage 3), HSDP shard 2 x replicate 1, context parallel cp=4 (p2p)" "$tmp/z" || { echo "FAIL: sharding line: $(grep sharding "$tmp/z")"; fail=1; }
grep -q "of which context-parallel K/V" "$tmp/z" || { echo "FAIL: no CP comm row"; fail=1; }
"$P" cost --model $L8 --hw $H1 $ZP --json -o "$tmp/zp.json" >"$tmp/z1.json" || fail=1
"$P" cost --plan "$tmp/zp.json" --json >"$tmp/z2.json" || { echo "FAIL: cost --plan with cp"; fail=1; }
python3 - "$tmp/z1.json" "$tmp/z2.json" "$tmp/zp.json" <<'PY' || fail=1
import json, sys
a, b, plan = (json.load(open(f)) for f in sys.argv[1:])
assert a == b, "plan file round trip changed a cp/fsdp prediction"
g = plan["global"]
assert g["fsdp"] is True and g["cp"] == 4 and g["hsdp_shard"] == 2 and plan["gpus"] == 64, g
assert "zero" not in g and "cp_comm_type" not in g, g  # optional keys: printed off their default
assert a["zero_stage"] == 3 and a["cp_comm_s"] + a["cp_hidden_s"] > 0 and a["cp_comm_s"] <= a["time"]["tp_comm_s"]
assert abs(sum(a["time"].values()) / a["iteration_s"] - 1) < 1e-9
PY
for bad in "--zero 4" "--cp 0" "--cp-comm-type ring" "--zero 2 --fsdp" "--hsdp-shard 3 --zero 3" "--hsdp-shard 2" "--cp 3"; do
	"$P" cost --model $L8 --hw $H1 --t 8 --p 1 --d 2 --micro-batch 1 --global-batch 8 $bad >"$tmp/o" 2>"$tmp/e"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && [ ! -s "$tmp/o" ] || { echo "FAIL: $bad: exit $rc, $(cat "$tmp/e")"; fail=1; }
done
grep -q "cp=3: the sequence of 131072 is not a multiple of 2\*cp" "$tmp/e" || { echo "FAIL: cp rule: $(cat "$tmp/e")"; fail=1; }

python3 scripts/validate-published --parplan "$P" --check || { echo "FAIL: accuracy against published runs"; fail=1; }
exit $fail
