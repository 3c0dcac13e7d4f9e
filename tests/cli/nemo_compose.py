#!/usr/bin/env python3
"""Compose a `parplan emit --format nemo1` file over NeMo's base config as Hydra does, with
OmegaConf (run by tests/cli/emit.sh with a Python that has omegaconf: Debian's
python3-omegaconf).

    nemo_compose.py BASE.yaml EMITTED.yaml

The file's defaults list is [megatron_gpt_config, _self_]: Hydra merges the base first and the
file over it (OmegaConf.merge(base, file)).  Checks that
  - every value the user must give (${fill_in.KEY}) stops the run when read, with an error naming
    KEY, and so does resolving the whole config (what the run does);
  - the same file with "???" placeholders would not stop: the merge keeps the base's tokenizer
    (the bug the fill_in form fixes), so the test would notice should OmegaConf change;
  - given every KEY on the command line (Hydra's KEY=VALUE overrides), the config resolves, and
    the file's settings win over the base's.
"""
import re
import sys

from omegaconf import OmegaConf

base_path, path = sys.argv[1], sys.argv[2]
base = OmegaConf.load(base_path)
text = open(path).read()
mine = OmegaConf.load(path)


def fail(msg):
    sys.exit(f"nemo1: {path}: {msg}")


if OmegaConf.to_container(mine.defaults) != ["megatron_gpt_config", "_self_"]:
    fail("defaults list is not [megatron_gpt_config, _self_]")
del mine["defaults"]


def leaves(node, prefix=""):
    for k, v in node.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from leaves(v, key + ".")
        else:
            yield key, v


raw = OmegaConf.to_container(mine, resolve=False)
fill = [k for k, v in leaves(raw) if isinstance(v, str) and v.startswith("${fill_in.")]
for k in fill:
    if OmegaConf.select(mine, k, throw_on_resolution_failure=False) is not None:
        fail(f"{k} resolves without being given")
    if f"${{fill_in.{k}}}" not in text:
        fail(f"{k}: the placeholder does not name its own key")
if "model.data.data_prefix" not in fill:
    fail("model.data.data_prefix is not left for the user")
if not any(k.startswith("model.tokenizer.") for k in fill):
    fail("no tokenizer value is left for the user")

composed = OmegaConf.merge(base, mine)
for k in fill:
    try:
        node = composed
        for part in k.split("."):
            node = node[part]
        fail(f"{k} composed to {node!r} instead of stopping the run")
    except Exception as e:  # noqa: BLE001 - OmegaConf's errors, whichever
        if k not in str(e):
            fail(f"reading {k} fails without naming it: {e}")
try:
    OmegaConf.to_container(composed, resolve=True)
    fail("the composed config resolves with values missing")
except Exception as e:  # noqa: BLE001
    if not any(k in str(e) for k in fill):
        fail(f"resolving fails without naming a missing key: {e}")

# the old "???" form: the base's tokenizer wins silently
old = OmegaConf.create(re.sub(r"\$\{fill_in\.[A-Za-z0-9_.]+\}", "???", text))
del old["defaults"]
old = OmegaConf.merge(base, old)
if "model.tokenizer.type" in fill and \
        OmegaConf.select(old, "model.tokenizer.type") != base.model.tokenizer.type:
    fail("a \"???\" tokenizer type no longer composes to the base's value: recheck the fix")

given = OmegaConf.from_dotlist([f"{k}=given-{i}" for i, k in enumerate(fill)])
final = OmegaConf.to_container(OmegaConf.merge(base, mine, given), resolve=True)
for k, v in leaves(raw):
    if k in fill or (isinstance(v, str) and "${" in v):
        continue
    have = final
    for part in k.split("."):
        have = have[part]
    if have != v:
        fail(f"{k} composes to {have!r}, the file says {v!r}")
print(f"nemo1: {len(fill)} values left to the user stop the run naming their keys")
