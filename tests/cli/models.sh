#!/bin/sh
# models/ must be exactly what scripts/gen-models makes, and each graph must load.
set -u
P=${PARPLAN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PARPLAN=$P MODELS=$tmp sh scripts/gen-models >/dev/null || { echo "FAIL: gen-models"; exit 1; }
fail=0
for f in "$tmp"/*.json; do
	b=$(basename "$f")
	cmp -s "$f" "models/$b" || { echo "FAIL: models/$b differs from scripts/gen-models output"; fail=1; }
	# identical layers form one class, so per-layer work is done once per model; a model mixing
	# dense and MoE layers (DeepSeek-V3's first 3 dense layers) has exactly two
	"$P" info --model "models/$b" --json >"$tmp/classes.out" || fail=1
	python3 - "$tmp/classes.out" "models/$b" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
want = 2 if 0 < d["moe_layers"] < d["layers"] else 1
if d["layer_classes"] != want:
    print("FAIL: %s has %d layer classes, expected %d" % (sys.argv[2], d["layer_classes"], want))
    sys.exit(1)
PY
done
[ "$(ls models/*.json | wc -l)" -eq "$(ls "$tmp"/*.json | wc -l)" ] || { echo "FAIL: models/ has extra files"; fail=1; }
# graphs made from the shipped Hugging Face configs (models/hf/NAME/config.json)
for f in "$tmp"/hf/*.json; do
	b=$(basename "$f")
	cmp -s "$f" "models/hf/$b" || { echo "FAIL: models/hf/$b differs from scripts/gen-models output"; fail=1; }
done
[ "$(ls models/hf/*.json | wc -l)" -eq "$(ls models/hf/*/config.json | wc -l)" ] || { echo "FAIL: models/hf/ has extra graphs"; fail=1; }
# the summary names what it should
"$P" info --model models/gpt3-175b.json --json >"$tmp/i.json" || fail=1
python3 - "$tmp/i.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["name"] == "gpt3-175b" and d["layers"] == 96 and d["layer_classes"] == 1, d
assert abs(d["params"] / 175.0e9 - 1) < 0.01, d["params"]
# forward FLOPs per token ~ 2 * params + attention: 2*174.6e9 + 4*l*s*h = 3.59e11
assert abs(d["flops_per_token"] / 3.59e11 - 1) < 0.01, d["flops_per_token"]
PY
echo "models: $(ls models/*.json | wc -l) graphs regenerate byte for byte"
exit $fail
