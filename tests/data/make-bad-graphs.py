#!/usr/bin/env python3
"""Write the malformed operator graphs of tests/data/bad/graph-*.json from tests/data/tiny-gpt.json.

Each file breaks one rule of parplan-graph/1; tests/cli/bad_inputs.sh runs `parplan validate` on
every file there and expects exit 2 with one line on stderr naming the file.  Run from the repo
root; the outputs are committed (the 50 MB one-string file is made by the test itself).
"""
import copy, json, os

base = json.load(open("tests/data/tiny-gpt.json"))
out = "tests/data/bad"
os.makedirs(out, exist_ok=True)

def op(g, name):
    return next(o for o in g["ops"] if o["name"] == name)

def tensor(g, name):
    return next(t for t in g["tensors"] if t["name"] == name)

cases = {}
def case(name):
    def deco(f):
        g = copy.deepcopy(base)
        r = f(g)
        cases[name] = r if r is not None else g
        return f
    return deco

@case("wrong-format")
def _(g): g["format"] = "parplan-graph/2"
@case("missing-format")
def _(g): del g["format"]
@case("unknown-top-field")
def _(g): g["extra"] = 1
@case("unknown-op-field")
def _(g): g["ops"][3]["attrs"] = {}
@case("unknown-tensor-field")
def _(g): g["tensors"][4]["dtype"] = "bf16"
@case("duplicate-tensor")
def _(g): g["tensors"].append(copy.deepcopy(g["tensors"][6]))
@case("duplicate-op")
def _(g): g["ops"][5]["name"] = g["ops"][4]["name"]
@case("dangling-input")
def _(g): op(g, "l0.attn.qkv")["inputs"][1] = "w9"
@case("dangling-output")
def _(g): op(g, "l0.attn.qkv")["outputs"][0] = "nowhere"
@case("two-producers")
def _(g): op(g, "l0.attn.proj")["outputs"][0] = "l0.attn.qkv.out"
@case("cycle")
def _(g): op(g, "l0.ln1")["inputs"][0] = "l0.res2.out"
@case("matmul-inner-dim")
def _(g): tensor(g, "l0.attn.qkv.w")["shape"] = [32, 192]
@case("add-operands")
def _(g): op(g, "l0.res1")["inputs"][1] = "l0.attn.qkv.out"
@case("heads-not-dividing")
def _(g): g["dims"]["heads"] = 5
@case("negative-dim")
def _(g): g["dims"]["hidden"] = -64
@case("zero-dim")
def _(g): tensor(g, "l0.mlp.fc1.out")["shape"] = ["b", "seq", 0]
@case("huge-dim")
def _(g): g["dims"]["vocab"] = 1e300
@case("overflow-product")
def _(g): tensor(g, "l0.ln1.g")["shape"] = [2**40, 2**40]
@case("fractional-dim")
def _(g): g["dims"]["seq"] = 16.5
@case("unknown-op-type")
def _(g): op(g, "l0.mlp.gelu")["type"] = "relu"
@case("undefined-dim-name")
def _(g): tensor(g, "l0.ln1.out")["shape"] = ["b", "seq", "width"]
@case("wrong-type-shape")
def _(g): tensor(g, "l0.ln1.out")["shape"] = "b,seq,hidden"
@case("wrong-type-inputs")
def _(g): op(g, "l0.ln1")["inputs"] = "l0.ln1.g"
@case("wrong-type-name")
def _(g): g["name"] = 42
@case("bad-kind")
def _(g): tensor(g, "l0.ln1.g")["kind"] = "weight"
@case("param-as-output")
def _(g): op(g, "l0.ln1")["outputs"][0] = "l0.ln1.g"
@case("missing-layer")
def _(g): g["dims"]["layers"] = 3
@case("layer-out-of-range")
def _(g): op(g, "l1.ln1")["layer"] = 7
@case("not-an-object")
def _(g): return [1, 2, 3]
@case("no-ops")
def _(g): g["ops"] = []

for name, g in cases.items():
    with open(f"{out}/graph-{name}.json", "w") as f:
        json.dump(g, f, indent=1)

text = json.dumps(base)
raw = {
    "graph-truncated.json": text[: len(text) // 2],
    "graph-empty.json": "",
    "graph-trailing-garbage.json": text + " }",
    "graph-deep-nesting.json": '{"format": "parplan-graph/1", "name": ' + "[" * 5000 + "]" * 5000 + "}",
    "graph-not-json.txt.json": "format: parplan-graph/1\n",
    "graph-duplicate-key.json": text.replace('"name": "tiny"', '"name": "tiny", "name": "tiny2"', 1),
}
for name, t in raw.items():
    with open(f"{out}/{name}", "w") as f:
        f.write(t)
print(f"{len(cases) + len(raw)} graph files in {out}")
