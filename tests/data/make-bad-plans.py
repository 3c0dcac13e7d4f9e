#!/usr/bin/env python3
"""Write the malformed plans of tests/data/bad-plans/*.json from tests/data/plan-tiny-gpt.json.

Each file breaks one rule of parplan-plan/1; tests/check_plan.c expects each to be rejected with
the JSON path of the offending value, and tests/cli/emit.sh expects `parplan emit` to exit 2
with one line naming the file.  Run from the repo root; the outputs are committed.
"""
import copy, json, os

base = json.load(open("tests/data/plan-tiny-gpt.json"))
out = "tests/data/bad-plans"
os.makedirs(out, exist_ok=True)
cases = {}

def case(name):
    def deco(f):
        p = copy.deepcopy(base)
        r = f(p)
        cases[name] = r if r is not None else p
        return f
    return deco

@case("wrong-format")
def _(p): p["format"] = "parplan-plan/2"
@case("unknown-top-field")
def _(p): p["extra"] = 1
@case("unknown-global-field")
def _(p): p["global"]["pipeline"] = 2
@case("unknown-op-field")
def _(p): p["ops"][3]["layer"] = 0
@case("missing-global")
def _(p): del p["global"]
@case("missing-t")
def _(p): del p["global"]["t"]
@case("zero-t")
def _(p): p["global"]["t"] = 0
@case("fractional-d")
def _(p): p["global"]["d"] = 1.5
@case("bad-schedule")
def _(p): p["global"]["schedule"] = "zero-bubble"
@case("bad-recompute")
def _(p): p["global"]["recompute"] = "partial"
@case("sp-not-bool")
def _(p): p["global"]["sequence_parallel"] = 1
@case("virtual-without-interleave")
def _(p): p["global"]["virtual_stages"] = 2
@case("bad-family")
def _(p): p["model_shape"]["family"] = "bert"
@case("kv-heads-not-dividing")
def _(p): p["model_shape"]["kv_heads"] = 3
@case("stage-gap")
def _(p): p["stages"][1]["first_layer"] = 2
@case("stage-count")
def _(p): p["stages"].append(copy.deepcopy(p["stages"][1]))
@case("stages-short")
def _(p): p["stages"][1]["layers"] = 0
@case("head-on-first")
def _(p): p["stages"][0]["head"] = True
@case("bad-config")
def _(p): p["ops"][0]["config"] = "diagonal"
@case("degree-mismatch")
def _(p): p["ops"][3]["parameter"] = 4
@case("split-mismatch")
def _(p): p["ops"][3]["split"] = "row"
@case("stage-out-of-range")
def _(p): p["ops"][2]["stage"] = 2
@case("duplicate-op")
def _(p): p["ops"].append(copy.deepcopy(p["ops"][0]))
@case("bad-predicted")
def _(p): p["predicted"]["mfu"] = -0.5
@case("bad-search-method")
def _(p): p["search"]["method"] = "random"

for name, p in cases.items():
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(p, f, indent=1)
        f.write("\n")

text = json.dumps(base, indent=1)
# raw-text cases
with open(os.path.join(out, "duplicate-key.json"), "w") as f:
    f.write(text.replace('"gpus": 8,', '"gpus": 8, "gpus": 8,', 1) + "\n")
with open(os.path.join(out, "truncated.json"), "w") as f:
    f.write(text[: len(text) // 2])
with open(os.path.join(out, "not-object.json"), "w") as f:
    f.write("[1, 2, 3]\n")
with open(os.path.join(out, "nul-byte.json"), "w") as f:
    f.write(text[:40] + "\0" + text[40:] + "\n")
