#!/bin/sh
# parplan regress: the regression suite in tests/regress/ must pass, and the command must catch
# drift (exit 1 + a JUnit failure), honour a zero tolerance to the last bit, repair drift with
# --update (byte-stable), and reject bad case files with exit 2 and one line naming the file.
set -u
P=${PARPLAN:?PARPLAN must name the parplan binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# ---- the suite itself (point 3) -------------------------------------------------------------
"$P" regress tests/regress/*.json --junit "$tmp/suite.xml" >"$tmp/suite.out" 2>"$tmp/suite.err"
rc=$?
[ "$rc" -eq 0 ] || { bad "suite exit $rc"; grep -v ' ok$' "$tmp/suite.out" | head -40; cat "$tmp/suite.err"; }
python3 - "$tmp/suite.xml" tests/regress/*.json <<'PY' || fail=1
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites" and root.get("failures") == "0", root.attrib
cases = []
for fn in sys.argv[2:]:
    d = json.load(open(fn))
    assert d["format"] == "parplan-regress/1"
    cases += d["cases"]
n_tests = sum(len(c["expect"]) - ("search" in c["expect"]) + len(c["expect"].get("search", {}))
              for c in cases)
assert int(root.get("tests")) == n_tests, (root.get("tests"), n_tests)
assert len(root.findall("testsuite/testcase")) == n_tests
# coverage the issue asks for
assert len(cases) >= 25, len(cases)
models = {c["model"].rsplit("/", 1)[-1] for c in cases}
hws = {c["hw"].rsplit("/", 1)[-1] for c in cases}
plans = [c["plan"] for c in cases if "plan" in c]
assert any(m.startswith("gpt") for m in models) and any(m.startswith("llama") for m in models)
assert "gpt-1.7b.json" in models and "gpt-1t.json" in models, models
assert len(hws) >= 3, hws
assert {p.get("schedule", "1f1b") for p in plans} == {"gpipe", "1f1b", "interleaved"}
assert {p.get("recompute", "none") for p in plans} == {"none", "selective", "full"}
assert {p.get("sequence_parallel", False) for p in plans} == {True, False}
assert {p.get("distributed_optimizer", False) for p in plans} == {True, False}
assert sum(c["expect"].get("feasible", {}).get("value") is False for c in cases) >= 3
searches = [c for c in cases if "search" in c]
assert len(searches) >= 3 and all("search" in c["expect"] for c in searches), len(searches)
# every expectation holds a value (none left for --update) and sensible plans have sensible MFU
for c in cases:
    for k, v in c["expect"].items():
        vals = v.values() if k == "search" else [v["value"]]
        assert all(x is not None for x in vals), (c["name"], k)
    if c["expect"].get("feasible", {}).get("value") and "mfu" in c["expect"]:
        m = c["expect"]["mfu"]["value"]
        assert 0.2 <= m <= 0.7, (c["name"], m)
PY

# ---- work on copies, with models/ and hwprofiles/ where the relative paths expect them -------
mkdir -p "$tmp/w/tests/regress"
ln -s "$PWD/models" "$tmp/w/models"
ln -s "$PWD/hwprofiles" "$tmp/w/hwprofiles"
ln -s "$PWD/stacks" "$tmp/w/stacks"
W=$tmp/w/tests/regress
cp -R tests/regress/. "$W/"
G=$W/gpt.json

# the committed files are in canonical form: --update changes no byte
"$P" regress "$W"/*.json --update >"$tmp/up.out" 2>&1 || bad "--update on the suite: exit $?"
for f in tests/regress/*.json; do
	cmp -s "$f" "$W/$(basename "$f")" || bad "--update rewrote $f (not canonical or drifted)"
done
grep -q '^regress: 0 values moved, 0 files rewritten$' "$tmp/up.out" || bad "--update moved: $(tail -1 "$tmp/up.out")"

# the in-process evaluation gives what `parplan cost --json` prints for the same plan (to 15
# digits: cJSON prints numbers with %.15g when that is within an epsilon)
"$P" regress "$G" --json >"$tmp/g.json" 2>&1 || bad "regress --json of gpt.json: exit $?"
python3 - "$G" "$tmp/g.json" "$P" <<'PY' || fail=1
import json, subprocess, sys
cases = json.load(open(sys.argv[1]))["cases"]
got = {(r["case"], r["field"]): r["got"] for r in json.load(open(sys.argv[2]))["files"][0]["results"]}
for c in cases[:4] + cases[-4:]:
    pl = c["plan"]
    args = [sys.argv[3], "cost", "--json", "--model", c["model"].replace("../../", ""),
            "--hw", c["hw"].replace("../../", "")]
    if "stack" in c:
        args += ["--stack", c["stack"].replace("../../", "")]
    for k, v in pl.items():
        flag = "--" + k.replace("_", "-")
        if v is True:
            args.append(flag)
        elif v is not False:
            args += [flag, str(v)]
    out = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    for field in c["expect"]:
        v = out
        for part in field.split("."):
            v = v[part]
        w = got[(c["name"], field)]
        assert v == w if isinstance(v, bool) else abs(v - w) <= 1e-14 * abs(w), (c["name"], field, v, w)
PY

# a search case expects what `parplan search` finds: the same best plan and the same prediction
python3 - "$P" tests/regress/*.json <<'PY' || fail=1
import json, subprocess, sys
for fn in sys.argv[2:]:
    for c in json.load(open(fn))["cases"]:
        if "search" not in c:
            continue
        s = c["search"]
        args = [sys.argv[1], "search", "--json", "--model", c["model"].replace("../../", ""),
                "--hw", c["hw"].replace("../../", ""), "--gpus", str(s["gpus"]),
                "--global-batch", str(s["global_batch"]), "--method", s.get("method", "exhaustive")]
        if "seed" in s:
            args += ["--seed", str(s["seed"])]
        if "stack" in c:
            args += ["--stack", c["stack"].replace("../../", "")]
        best = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)["plans"][0]
        for k, v in c["expect"]["search"].items():
            assert best["global"][k] == v, (c["name"], k, best["global"][k], v)
        m = c["expect"]["mfu"]["value"]
        assert abs(best["mfu"] - m) <= 1e-14 * m, (c["name"], best["mfu"], m)
PY

# ---- point 4: an expectation moved 10% fails with exit 1 and a JUnit failure -----------------
python3 - "$G" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["cases"][0]["expect"]["mfu"]
e["value"] = e["value"] * 1.1
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
"$P" regress "$G" --junit "$tmp/drift.xml" >"$tmp/drift.out" 2>"$tmp/drift.err"
rc=$?
[ "$rc" -eq 1 ] || bad "10% drift: exit $rc, want 1"
grep -q "DRIFT" "$tmp/drift.out" || bad "10% drift: no DRIFT row in the table"
name=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cases'][0]['name'])" "$G")
python3 - "$tmp/drift.xml" "$name" <<'PY' || fail=1
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.get("failures") == "1", root.attrib
fails = [(tc, tc.find("failure")) for tc in root.iter("testcase") if tc.find("failure") is not None]
assert len(fails) == 1, len(fails)
tc, f = fails[0]
assert tc.get("classname") == sys.argv[2] and tc.get("name") == "mfu", tc.attrib
m = re.fullmatch(r"expected (\S+) got (\S+) drift ([-+0-9.e]+)%", f.get("message"))
assert m, f.get("message")
exp, got, drift = map(float, m.groups())
assert abs(exp / got - 1.1) < 1e-12, (exp, got)
assert abs(drift - (got / exp - 1) * 100) < 1e-3 and abs(drift + 100 / 11) < 1e-3, drift
PY

# ---- point 4: --update fixes the drifted case, a second run passes, a second --update is a no-op
"$P" regress "$G" --update >"$tmp/fix.out" 2>&1 || bad "--update of a drifted file: exit $?"
grep -qF "$name: mfu:" "$tmp/fix.out" || bad "--update did not say the mfu of $name moved"
grep -q '^regress: 1 value moved, 1 file rewritten$' "$tmp/fix.out" || bad "--update summary: $(tail -1 "$tmp/fix.out")"
"$P" regress "$G" >/dev/null 2>&1 || bad "run after --update: exit $?"
cmp -s "$G" tests/regress/gpt.json || bad "--update did not restore the exact committed bytes"
cp "$G" "$tmp/once.json"
"$P" regress "$G" --update >/dev/null 2>&1 || bad "second --update: exit $?"
cmp -s "$G" "$tmp/once.json" || bad "second --update changed bytes"

# ---- point 4: tolerance 0 on a value equal to 17 digits passes; one ulp off fails ------------
python3 - "$G" "$W/tol0.json" 0 <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
ulps = int(sys.argv[3])
for c in d["cases"]:
    for k, e in c["expect"].items():
        if k != "feasible" and k != "search":
            e["tol"] = 0
            for _ in range(ulps):
                e["value"] = math.nextafter(e["value"], math.inf)
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
python3 - "$G" "$W/tol0-ulp.json" 1 <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
c = d["cases"][0]
c["expect"]["mfu"]["tol"] = 0
c["expect"]["mfu"]["value"] = math.nextafter(c["expect"]["mfu"]["value"], math.inf)
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
grep -q '"value": [0-9.]*[0-9]\{15,\}' "$W/tol0.json" || bad "tol0.json holds no 15+ digit values"
"$P" regress "$W/tol0.json" >"$tmp/tol0.out" 2>&1 || { bad "tol 0 on exact values: exit $?"; grep -v ' ok$' "$tmp/tol0.out" | head; }
"$P" regress "$W/tol0-ulp.json" --json >"$tmp/ulp.json" 2>&1
rc=$?
[ "$rc" -eq 1 ] || bad "tol 0, one ulp off: exit $rc, want 1"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['failures'] == 1, d['failures']
r = [x for x in d['files'][0]['results'] if x['verdict'] != 'pass']
assert r[0]['field'] == 'mfu' and r[0]['tol'] == 0 and r[0]['expected'] > r[0]['got'], r
" "$tmp/ulp.json" || bad "--json of the one-ulp case"

# ---- point 4: a missing model file is exit 2 with the path named; nothing rewritten ----------
python3 - "$G" "$W/missing.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["cases"][2]["model"] = "../../models/no-such-model.json"
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
cp "$W/missing.json" "$tmp/missing.before"
cp "$W/tol0-ulp.json" "$tmp/ulp.before"
"$P" regress "$W/tol0-ulp.json" "$W/missing.json" --update --junit "$tmp/never.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || bad "missing model: exit $rc, want 2"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "missing model: $(wc -l <"$tmp/err") stderr lines"
grep -qF "no-such-model.json" "$tmp/err" || bad "missing model: path not named: $(cat "$tmp/err")"
grep -qF "missing.json: cases[2].model" "$tmp/err" || bad "missing model: case file/JSON path not named: $(cat "$tmp/err")"
cmp -s "$W/missing.json" "$tmp/missing.before" || bad "failed --update rewrote missing.json"
cmp -s "$W/tol0-ulp.json" "$tmp/ulp.before" || bad "failed --update rewrote the good file beside it"
[ ! -e "$tmp/never.xml" ] || bad "failed run wrote a JUnit report"

# ---- malformed case files: exit 2, one line naming the file (and the JSON path) --------------
M='"model": "../../models/gpt-1.7b.json", "hw": "../../hwprofiles/dgx-a100-80g.json"'
PL='"plan": {"t": 1, "p": 1, "d": 8, "global_batch": 64}'
EX='"expect": {"mfu": {"value": 0.5}}'
n=0
badcase() { # JSON path expected in the message, then the file text
	n=$((n + 1))
	f="$W/bad-$n.json"
	printf '%s\n' "$2" >"$f"
	"$P" regress "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -qF "bad-$n.json" "$tmp/err" ||
		! grep -qF -- "$1" "$tmp/err" || grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
		bad "bad case file $n (want exit 2 naming bad-$n.json and '$1'): exit $rc: $(head -c 400 "$tmp/err")"
	fi
}
badcase "" '{"format": "parplan-regress/1", "cases": ['
badcase "" '[1, 2]'
badcase "format" '{"format": "parplan-regress/2", "cases": []}'
badcase "format" '{"cases": [{"name": "a", '"$M, $PL, $EX"'}]}'
badcase "frobnicate" '{"format": "parplan-regress/1", "frobnicate": 1, "cases": []}'
badcase "cases" '{"format": "parplan-regress/1", "cases": []}'
badcase "cases" '{"format": "parplan-regress/1", "cases": {}}'
badcase "cases[0]" '{"format": "parplan-regress/1", "cases": [7]}'
badcase "cases[0].name" '{"format": "parplan-regress/1", "cases": [{"name": 3, '"$M, $PL, $EX"'}]}'
badcase "cases[0]" '{"format": "parplan-regress/1", "cases": [{'"$M, $PL, $EX"'}]}'
badcase "cases[0].hw" '{"format": "parplan-regress/1", "cases": [{"name": "a", "model": "x.json", "hw": "", '"$PL, $EX"'}]}'
badcase "cases[0].colour" '{"format": "parplan-regress/1", "cases": [{"name": "a", "colour": 1, '"$M, $PL, $EX"'}]}'
badcase "cases[1].name" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL, $EX"'}, {"name": "a", '"$M, $PL, $EX"'}]}'
badcase "cases[0]" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $EX"'}]}'
badcase "cases[0]" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "plan_file": "p.json", '"$EX"'}]}'
badcase "cases[0].plan" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "plan": {"t": 1, "p": 1, "global_batch": 8}, '"$EX"'}]}'
badcase "cases[0].plan.t" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "plan": {"t": 1.5, "p": 1, "d": 1, "global_batch": 8}, '"$EX"'}]}'
badcase "cases[0].plan.schedule" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "plan": {"t": 1, "p": 1, "d": 1, "global_batch": 8, "schedule": "zigzag"}, '"$EX"'}]}'
badcase "cases[0].plan.tp" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "plan": {"t": 1, "p": 1, "d": 1, "global_batch": 8, "tp": 2}, '"$EX"'}]}'
badcase "cases[0].plan" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "plan": {"t": 5, "p": 1, "d": 1, "global_batch": 8}, '"$EX"'}]}'
badcase "cases[0].expect" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {}}]}'
badcase "cases[0].expect.mfu_pct" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"mfu_pct": {"value": 1}}}]}'
badcase "cases[0].expect.mfu" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"mfu": 0.5}}]}'
badcase "cases[0].expect.mfu" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"mfu": {"tol": 0.1}}}]}'
badcase "cases[0].expect.mfu.value" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"mfu": {"value": "high"}}}]}'
badcase "cases[0].expect.mfu.tol" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"mfu": {"value": 0.5, "tol": -0.01}}}]}'
badcase "cases[0].expect.mfu.tol" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"mfu": {"value": 0.5, "tol": 2}}}]}'
badcase "cases[0].expect.feasible.tol" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"feasible": {"value": true, "tol": 0.1}}}]}'
badcase "cases[0].expect.feasible.value" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"feasible": {"value": 1}}}]}'
badcase "cases[0].expect.search" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M, $PL"', "expect": {"search": {"t": 1}}}]}'
badcase 'cases[0].search: missing field "gpus"' '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "search": {"global_batch": 8}, '"$EX"'}]}'
badcase "cases[0].search.method" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "search": {"gpus": 8, "global_batch": 8, "method": "guess"}, '"$EX"'}]}'
badcase "cases[0].expect.search.schedule" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "search": {"gpus": 8, "global_batch": 8}, "expect": {"search": {"schedule": "zigzag"}}}]}'
badcase "cases[0].expect.search.t" '{"format": "parplan-regress/1", "cases": [{"name": "a", '"$M"', "search": {"gpus": 8, "global_batch": 8}, "expect": {"search": {"t": 0}}}]}'
badcase "cases[0].hw" '{"format": "parplan-regress/1", "cases": [{"name": "a", "model": "../../models/gpt-1.7b.json", "hw": "nope/dgx.json", '"$PL, $EX"'}]}'
# a malformed model file: the loader's own file and JSON path
# fp8 on a device without fp8 tensor cores (A100): refused naming the case's plan and the peak
badcase "cases[0].plan: precision fp8" '{"format": "parplan-regress/1", "cases": [{"name": "a", "model": "../../models/llama3-8b.json", "hw": "../../hwprofiles/dgx-a100-80g.json", "plan": {"t": 1, "p": 1, "d": 8, "global_batch": 64, "precision": "fp8"}, '"$EX"'}]}'
badcase "cases[0].plan.precision: unknown precision \"fp4\"" '{"format": "parplan-regress/1", "cases": [{"name": "a", "model": "../../models/llama3-8b.json", "hw": "../../hwprofiles/dgx-h100.json", "plan": {"t": 1, "p": 1, "d": 8, "global_batch": 64, "precision": "fp4"}, '"$EX"'}]}'
badcase "graph-cycle.json" '{"format": "parplan-regress/1", "cases": [{"name": "a", "model": "'"$PWD"'/tests/data/bad/graph-cycle.json", "hw": "../../hwprofiles/dgx-a100-80g.json", '"$PL, $EX"'}]}'
badcase "" "$(printf '{"format": "parplan-regress/1", "cases": [\001]}')"

# usage errors
"$P" regress >/dev/null 2>&1; [ $? -eq 2 ] || bad "no files: want exit 2"
"$P" regress "$G" --frob >/dev/null 2>&1; [ $? -eq 2 ] || bad "unknown option: want exit 2"
"$P" regress "$G" --junit >/dev/null 2>&1; [ $? -eq 2 ] || bad "--junit without a value: want exit 2"
if ls "$W"/*.tmp* "$tmp"/*.tmp* >/dev/null 2>&1; then bad "temp file left behind"; fi

[ "$fail" -eq 0 ] && echo "regress: suite passes; drift, tol 0, --update, missing model and $n bad case files behave"
exit $fail
