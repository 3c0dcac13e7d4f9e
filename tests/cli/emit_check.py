#!/usr/bin/env python3
"""Parse-back checks of `parplan emit` output (run by tests/cli/emit.sh).

    emit_check.py FORMAT PLAN.json FILE [ARGV_FILE]

Reads FILE as its launcher would (JSON, TOML with tomllib, YAML with PyYAML, Python with ast,
the bash script's
torchrun command line as captured in ARGV_FILE, the SVG with xml.etree) and checks that every
number taken from the plan equals the plan's.  Exits non-zero with a message on the first
mismatch.
"""
import ast
import json, os
import sys
import xml.etree.ElementTree as ET

fmt, plan_path, path = sys.argv[1], sys.argv[2], sys.argv[3]
plan = json.load(open(plan_path))
g, sh = plan["global"], plan["model_shape"]
t, p, d, v = g["t"], g["p"], g["d"], g["virtual_stages"]
mb, gb = g["micro_batch"], g["global_batch"]
m = gb // (mb * d)
gpus, nd = plan["gpus"], plan["node_devices"]
nnodes, per_node = (1, gpus) if gpus <= nd else (gpus // nd, nd)


def eq(what, have, want):
    if have != want:
        sys.exit(f"{fmt}: {path}: {what} is {have!r}, the plan says {want!r}")


def flags(argv):
    """--flag value pairs and bare --flags of a command line."""
    out, i = {}, 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                out.setdefault(a, []).append(argv[i + 1])
                i += 2
                continue
            out.setdefault(a, []).append(True)
        i += 1
    return out


def one(f, name):
    vals = f.get(name)
    if not vals or len(vals) != 1:
        sys.exit(f"{fmt}: {name} given {0 if not vals else len(vals)} times, expected once")
    return vals[0]


def model_settings():
    """The model settings every launcher file must carry: the plan's model_shape.model (the
    graph's, from a Hugging Face config) over the family's defaults (Llama 3: no dropout, RoPE
    base 500000 without scaling, RMSNorm eps 1e-5, no biases; GPT: dropout 0.1, LayerNorm eps
    1e-5, learned positions, biases)."""
    llama = sh["family"] == "llama"
    s = {"dropout": 0.0 if llama else 0.1, "eps": 1e-5, "rope": llama,
         "theta": 500000.0 if llama else None, "scaling": None, "rms": llama,
         "qkv_bias": not llama, "bias": not llama}
    m = sh.get("model")
    if m:
        rs = m.get("rope_scaling") or {}
        s.update({"dropout": 0.0, "eps": m.get("norm_eps", 1e-5),
                  "rope": m.get("position", "rope") == "rope",
                  "theta": float(m["rope_theta"]) if "rope_theta" in m else s["theta"],
                  "scaling": float(rs["factor"]) if rs.get("type") == "llama3" else None,
                  "rms": m.get("norm", "rmsnorm") == "rmsnorm",
                  "qkv_bias": m.get("qkv_bias", False),
                  "bias": m.get("out_bias", False) or m.get("mlp_bias", False)})
    return s


def check_megatron_like(deepspeed):
    argv = open(sys.argv[4]).read().split("\n")[:-1]
    f = flags(argv)
    eq("--nproc_per_node", int(one(f, "--nproc_per_node")), per_node)
    eq("--nnodes", int(one(f, "--nnodes")), nnodes)
    if not argv[argv.index(one(f, "--master_port")) + 1].endswith("/pretrain_gpt.py"):
        sys.exit(f"{fmt}: torchrun does not run pretrain_gpt.py")
    eq("--tensor-model-parallel-size", int(one(f, "--tensor-model-parallel-size")), t)
    eq("--pipeline-model-parallel-size", int(one(f, "--pipeline-model-parallel-size")), p)
    eq("--micro-batch-size", int(one(f, "--micro-batch-size")), mb)
    eq("--global-batch-size", int(one(f, "--global-batch-size")), gb)
    eq("--rampup-batch-size", f.get("--rampup-batch-size"), None)
    eq("--num-layers", int(one(f, "--num-layers")), sh["layers"])
    eq("--hidden-size", int(one(f, "--hidden-size")), sh["hidden"])
    eq("--ffn-hidden-size", int(one(f, "--ffn-hidden-size")), sh["ffn"])
    eq("--num-attention-heads", int(one(f, "--num-attention-heads")), sh["heads"])
    eq("--seq-length", int(one(f, "--seq-length")), sh["seq"])
    eq("--max-position-embeddings", int(one(f, "--max-position-embeddings")), sh["seq"])
    V = sh["vocab"]
    div = f.get("--make-vocab-size-divisible-by")
    eq("--make-vocab-size-divisible-by", div, ["1"] if V % t == 0 else None)
    if deepspeed:
        # no mock data in Megatron-DeepSpeed: the test's DATA_ARGS reach the command line
        eq("--data-path from DATA_ARGS", one(f, "--data-path"), "/data/corpus_text_document")
        eq("--mock-data", f.get("--mock-data"), None)
    else:
        # NullTokenizer: --vocab-size plus an end-of-document token, padded by Megatron to a
        # multiple of --make-vocab-size-divisible-by (default 128) times t
        eq("--tokenizer-type", one(f, "--tokenizer-type"), "NullTokenizer")
        padded = int(one(f, "--vocab-size")) + 1
        mult = (int(div[0]) if div else 128) * t
        while padded % mult:
            padded += 1
        if V % t == 0:
            eq("padded vocabulary", padded, V)
    eq("--bf16", one(f, "--bf16"), True)
    ms = model_settings()
    eq("--hidden-dropout", float(one(f, "--hidden-dropout")), ms["dropout"])
    eq("--attention-dropout", float(one(f, "--attention-dropout")), ms["dropout"])
    eps = "--layernorm-epsilon" if deepspeed else "--norm-epsilon"
    eq(eps, float(one(f, eps)), ms["eps"])
    eq("--normalization", one(f, "--normalization") if "--normalization" in f else None,
       ("rmsnorm" if deepspeed else "RMSNorm") if ms["rms"] else None)
    theta = "--rotary-position-embeddings-theta" if deepspeed else "--rotary-base"
    eq(theta, float(one(f, theta)) if theta in f else None, ms["theta"] if ms["rope"] else None)
    if not deepspeed:
        eq("--position-embedding-type", one(f, "--position-embedding-type")
           if "--position-embedding-type" in f else "learned_absolute",
           "rope" if ms["rope"] else "learned_absolute")
        eq("--use-rope-scaling", "--use-rope-scaling" in f, ms["scaling"] is not None)
        eq("--rope-scaling-factor", float(one(f, "--rope-scaling-factor"))
           if "--rope-scaling-factor" in f else None, ms["scaling"])
        eq("--add-qkv-bias", "--add-qkv-bias" in f, ms["qkv_bias"] and not ms["bias"])
    eq("--disable-bias-linear", "--disable-bias-linear" in f, not ms["bias"])
    gqa = sh["kv_heads"] != sh["heads"]
    if deepspeed:
        eq("--num-key-value-heads", int(one(f, "--num-key-value-heads")) if gqa else None,
           sh["kv_heads"] if gqa else None)
        eq("--deepspeed", one(f, "--deepspeed"), True)
        if not one(f, "--deepspeed_config").endswith("ds_config.json"):
            sys.exit(f"{fmt}: --deepspeed_config is not ds_config.json")
        eq("--zero-stage", int(one(f, "--zero-stage")), 1 if g["distributed_optimizer"] else 0)
        eq("--no-pipeline-parallel", "--no-pipeline-parallel" in f, p == 1)
    else:
        eq("--group-query-attention", "--group-query-attention" in f, gqa)
        eq("--num-query-groups", int(one(f, "--num-query-groups")) if gqa else None,
           sh["kv_heads"] if gqa else None)
        vs = f.get("--num-virtual-stages-per-pipeline-rank")
        eq("--num-virtual-stages-per-pipeline-rank", int(vs[0]) if vs else 1, v)
        eq("v > 1 only with the flag", bool(vs), v > 1)
        for k, key in (("--decoder-first-pipeline-num-layers", "first_stage_layers"),
                       ("--decoder-last-pipeline-num-layers", "last_stage_layers")):
            eq(k, int(one(f, k)) if k in f else 0, g.get(key, 0))
        eq("--use-distributed-optimizer", "--use-distributed-optimizer" in f,
           g["distributed_optimizer"])
        eq("--overlap-grad-reduce", "--overlap-grad-reduce" in f, g["overlap_grad_reduce"])
    eq("--sequence-parallel", "--sequence-parallel" in f, g["sequence_parallel"])
    # precision: Megatron-LM's fp8 flags (transformer_config.py at d98e8a64); the bf16-only
    # launchers refuse an fp8 plan before writing anything
    prec = g.get("precision", "bf16")
    fmt8 = {"bf16": None, "fp8": ["hybrid"], "mxfp8": ["e4m3"]}[prec]
    rec8 = {"bf16": None, "fp8": ["delayed"], "mxfp8": ["mxfp8"]}[prec]
    eq("--fp8-format", f.get("--fp8-format"), fmt8)
    eq("--fp8-recipe", f.get("--fp8-recipe"), rec8)
    eq("--fp8-param-gather", "--fp8-param-gather" in f, bool(g.get("fp8_param_gather", False)))
    cp = g.get("cp", 1)
    eq("--context-parallel-size", int(one(f, "--context-parallel-size"))
       if "--context-parallel-size" in f else 1, cp)
    eq("world", t * cp * p * d, gpus)
    if cp > 1:  # Transformer Engine's cp_comm_type names, passed through by Megatron-LM
        ct = g.get("cp_comm_type", "p2p")
        eq("--cp-comm-type", one(f, "--cp-comm-type"), ct)
        hier = None
        if "--hierarchical-context-parallel-sizes" in argv:
            k = argv.index("--hierarchical-context-parallel-sizes")
            hier = [int(x) for x in argv[k + 1:k + 3]]
        eq("--hierarchical-context-parallel-sizes", hier,
           [g["cp_a2a"], cp // g["cp_a2a"]] if ct == "a2a+p2p" else None)
    rc = g["recompute"]
    eq("--recompute-granularity", f.get("--recompute-granularity"),
       None if rc == "none" else [rc])
    eq("--recompute-method", f.get("--recompute-method"), ["uniform"] if rc == "full" else None)
    eq("--recompute-num-layers", f.get("--recompute-num-layers"), ["1"] if rc == "full" else None)
    eq("world", per_node * nnodes, t * g.get("cp", 1) * p * d)


# Nanotron's config dataclasses (nanotron/config/config.py, parallelism_config.py,
# models_config.py), which it fills with dacite strict=True: {key: (required, type or nested)}.
# A required key missing, a key the dataclass lacks or a value of the wrong type fails the load
# (dacite does not take an int for a float field).
OPT_STR, OPT_INT, OPT_FLOAT = (str, type(None)), (int, type(None)), (float, type(None))
NANOTRON = {
    "general": (True, {"project": (True, str), "run": (False, OPT_STR),
                       "seed": (False, OPT_INT), "step": (False, OPT_INT),
                       "consumed_train_samples": (False, OPT_INT),
                       "benchmark_csv_path": (False, OPT_STR),
                       "ignore_sanity_checks": (False, bool)}),
    "parallelism": (True, {"dp": (True, int), "pp": (True, int), "tp": (True, int),
                           "pp_engine": (False, OPT_STR), "tp_mode": (False, OPT_STR),
                           "tp_linear_async_communication": (False, (bool, type(None))),
                           "recompute_layer": (False, bool), "moe_layer_recompute": (False, bool),
                           "tp_recompute_allgather": (False, bool),
                           "expert_parallel_size": (False, int),
                           "context_parallel_size": (False, int)}),
    "model": (True, {"model_config": (True, "llama"), "init_method": (True, {
        "std": (True, float), "scaling_method": (False, str)}),
        "dtype": (False, OPT_STR), "make_vocab_size_divisible_by": (False, int),
        "ddp_bucket_cap_mb": (False, int)}),
    "tokenizer": (False, {"tokenizer_name_or_path": (False, OPT_STR),
                          "tokenizer_revision": (False, OPT_STR),
                          "tokenizer_max_length": (False, OPT_INT)}),
    "checkpoints": (False, {"checkpoints_path": (True, str), "checkpoint_interval": (True, int),
                            "save_initial_state": (False, (bool, type(None))),
                            "save_final_state": (False, (bool, type(None))),
                            "resume_checkpoint_path": (False, OPT_STR),
                            "load_lr_scheduler": (False, (bool, type(None))),
                            "load_optimizer": (False, (bool, type(None))),
                            "checkpoints_path_is_shared_file_system": (False, (bool, type(None)))}),
    "logging": (False, {"log_level": (False, OPT_STR), "log_level_replica": (False, OPT_STR),
                        "iteration_step_info_interval": (False, OPT_INT)}),
    "tokens": (False, {"sequence_length": (True, int), "train_steps": (True, int),
                       "micro_batch_size": (True, int),
                       "batch_accumulation_per_replica": (True, int),
                       "val_check_interval": (False, OPT_INT),
                       "limit_val_batches": (False, OPT_INT),
                       "limit_test_batches": (False, OPT_INT)}),
    "optimizer": (False, {
        "optimizer_factory": (True, {"adam_eps": (True, float), "adam_beta1": (True, float),
                                     "adam_beta2": (True, float),
                                     "torch_adam_is_fused": (True, bool),
                                     "name": (False, str)}),
        "zero_stage": (True, int), "weight_decay": (True, float),
        "clip_grad": (True, OPT_FLOAT), "accumulate_grad_in_fp32": (True, bool),
        "learning_rate_scheduler": (True, {
            "learning_rate": (True, float), "lr_warmup_steps": (False, int),
            "lr_warmup_style": (True, str), "lr_decay_style": (False, OPT_STR),
            "lr_decay_steps": (False, OPT_INT), "lr_decay_starting_step": (False, OPT_INT),
            "min_decay_lr": (False, OPT_FLOAT)}),
        "weight_decay_exclude_named_params": (False, (list, type(None)))}),
    "data_stages": (False, [{"name": (True, str), "start_training_step": (True, int),
                             "data": (True, {"dataset": (True, type(None)),
                                             "seed": (True, OPT_INT),
                                             "num_loading_workers": (False, OPT_INT)})}]),
    "profiler": (False, dict), "lighteval": (False, dict), "s3_upload": (False, dict),
}
LLAMA = {"bos_token_id": int, "eos_token_id": int, "hidden_act": str, "hidden_size": int,
         "initializer_range": float, "intermediate_size": int, "is_llama_config": bool,
         "max_position_embeddings": int, "num_attention_heads": int, "num_hidden_layers": int,
         "attention_bias": bool, "num_key_value_heads": int, "pad_token_id": OPT_INT,
         "pretraining_tp": int, "rms_norm_eps": float, "rope_scaling": (dict, type(None)),
         "rope_theta": float, "rope_interleaved": bool, "tie_word_embeddings": bool,
         "use_cache": bool, "vocab_size": int, "z_loss_enabled": bool,
         "z_loss_coefficient": float}


def type_ok(value, want):
    kinds = want if isinstance(want, tuple) else (want,)
    if isinstance(value, bool):  # a bool is an int to Python, not to dacite
        return bool in kinds
    return isinstance(value, kinds)


def check_schema(where, value, spec):
    if spec == "llama":
        spec = {k: (False, t) for k, t in LLAMA.items()}
    if isinstance(spec, list):
        if not isinstance(value, list) or not value:
            sys.exit(f"nanotron: {where} is not a list")
        for i, item in enumerate(value):
            check_schema(f"{where}[{i}]", item, spec[0])
        return
    if not isinstance(spec, dict):
        if not type_ok(value, spec):
            sys.exit(f"nanotron: {where} = {value!r} has the wrong type for Nanotron")
        return
    if not isinstance(value, dict):
        sys.exit(f"nanotron: {where} is not a mapping")
    for k in value:
        if k not in spec:
            sys.exit(f"nanotron: {where}.{k}: no such field in Nanotron's config (dacite strict)")
    for k, (required, sub) in spec.items():
        if k not in value:
            if required:
                sys.exit(f"nanotron: {where}.{k}: required by Nanotron's config, missing")
            continue
        check_schema(f"{where}.{k}" if where else k, value[k], sub)


def known_fields(name):
    """The field names of tests/data/launcher-fields/NAME.txt (scripts/launcher-fields, from the
    launcher's config dataclasses at the commit its header names)."""
    with open(f"tests/data/launcher-fields/{name}.txt") as f:
        return {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}


# torchtitan's config classes the module may call, and the section of the field list their
# keyword arguments belong to
TT_CALLS = {"ParallelismConfig": "parallelism", "CompileConfig": "compile",
            "FullAC.Config": "activation_checkpoint", "SelectiveAC.Config": "activation_checkpoint",
            "Float8LinearConverter.Config": "float8", "model_registry": "model_registry"}


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return base + "." + node.attr if base else None
    return None


def number(node):
    """An int, float, bool, str or None literal, or a product of int literals."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return number(node.left) * number(node.right)
    return ast.literal_eval(node)


def check_torchtitan_module():
    """The module parses; its one function starts from a torchtitan baseline and sets only fields
    of torchtitan's config dataclasses (each checked against the committed list); the values are
    the plan's."""
    known = known_fields("torchtitan")
    tree = ast.parse(open(path).read(), path)
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    eq("configuration functions", [f.name for f in fns], ["parplan"])
    imported = {a.asname or a.name: n.module for n in tree.body if isinstance(n, ast.ImportFrom)
                for a in n.names}
    for name, mod in imported.items():
        if f"import {mod}.{name}" not in known:
            sys.exit(f"torchtitan: {path}: imports {name} from {mod}, which torchtitan's module "
                     "does not define (tests/data/launcher-fields/torchtitan.txt)")
    body = fns[0].body
    first = body[0]
    if not (isinstance(first, ast.Assign) and isinstance(first.value, ast.Call)
            and dotted(first.value.func) in imported
            and imported[dotted(first.value.func)] == "torchtitan.models.llama3.config_registry"):
        sys.exit(f"torchtitan: {path}: does not start from a config_registry baseline")
    if not isinstance(body[-1], ast.Return):
        sys.exit(f"torchtitan: {path}: does not return the configuration")
    values = {}
    for node in ast.walk(fns[0]):
        if isinstance(node, ast.Assign):
            for tgt in node.targets:
                name = dotted(tgt)
                if name and name.startswith("config."):
                    field = name[len("config."):]
                    if field not in known:
                        sys.exit(f"torchtitan: {path}: sets {field}: not a field of torchtitan's "
                                 "config (tests/data/launcher-fields/torchtitan.txt)")
                    values[field] = node.value
        if isinstance(node, ast.Call):
            fn = dotted(node.func)
            if fn in TT_CALLS:
                for kw in node.keywords:
                    field = f"{TT_CALLS[fn]}.{kw.arg}"
                    if field not in known:
                        sys.exit(f"torchtitan: {path}: {fn}({kw.arg}=...): not a field of "
                                 "torchtitan's config")
                    values[field] = kw.value
            elif fn and fn != dotted(first.value.func):
                sys.exit(f"torchtitan: {path}: calls {fn}, not a known config class")
    val = {k: number(v) for k, v in values.items()
           if not isinstance(v, (ast.Call, ast.List))}
    eq("tensor_parallel_degree", val["parallelism.tensor_parallel_degree"], t)
    eq("pipeline_parallel_degree", val["parallelism.pipeline_parallel_degree"], p)
    dr, ds = val["parallelism.data_parallel_replicate_degree"], val["parallelism.data_parallel_shard_degree"]
    eq("dp degrees", dr * ds, d)
    zero = 3 if g.get("fsdp") else max(g.get("zero", 0), 1 if g["distributed_optimizer"] else 0)
    eq("data_parallel_shard_degree", ds, (g.get("hsdp_shard") or d) if zero else 1)
    eq("fsdp_reshard_after_forward", val["parallelism.fsdp_reshard_after_forward"],
       "never" if zero in (1, 2) else "default")
    eq("context_parallel_degree", val["parallelism.context_parallel_degree"], g.get("cp", 1))
    eq("world", dr * ds * t * p * val["parallelism.context_parallel_degree"], gpus)
    eq("enable_sequence_parallel", val["parallelism.enable_sequence_parallel"],
       g["sequence_parallel"])
    eq("max_context_length", val["training.max_context_length"], sh["seq"])
    eq("num_tokens_per_microbatch_per_dp_rank",
       val["training.num_tokens_per_microbatch_per_dp_rank"], mb * sh["seq"])
    eq("num_tokens_per_train_step", val["training.num_tokens_per_train_step"], gb * sh["seq"])
    # torchtitan's trainer: gradient accumulation = train step / (micro tokens * pp micro-batches
    # * dp degree) (trainer.py), which must come out whole and give the plan's m micro-batches
    npp = val.get("parallelism.num_pp_microbatches", 1) if p > 1 else 1
    per_step = val["training.num_tokens_per_microbatch_per_dp_rank"] * npp * d
    eq("whole gradient accumulation", val["training.num_tokens_per_train_step"] % per_step, 0)
    eq("micro-batches", npp * val["training.num_tokens_per_train_step"] // per_step, m)
    ac = values["activation_checkpoint"]
    eq("activation_checkpoint", None if isinstance(ac, ast.Constant) else dotted(ac.func),
       {"none": None, "selective": "SelectiveAC.Config", "full": "FullAC.Config"}[g["recompute"]])
    if p > 1:
        eq("pipeline_parallel_schedule", val["parallelism.pipeline_parallel_schedule"],
           {"1f1b": "1F1B", "gpipe": "GPipe", "interleaved": "Interleaved1F1B"}[g["schedule"]])
        eq("disable_cuda_graphs (CUDA graphs refuse PP)", val["training.disable_cuda_graphs"], True)
        k = val.get("parallelism.pipeline_parallel_layers_per_stage")
        L = sh["layers"]
        stages = (p * (2 if g["schedule"] == "interleaved" else 1) if k is None
                  else -(-(L + 2) // k))
        eq("torchtitan's stage count", stages, p * v)


def check_megatron_bridge():
    """The torchrun command line the script built: run_recipe.py with a recipe and KEY=VALUE
    overrides, each key a field of Bridge's ConfigContainer sections (the committed list), each
    value the plan's; Hydra's spellings (true/false/null)."""
    known = known_fields("megatron-bridge")
    argv = open(sys.argv[4]).read().split("\n")[:-1]
    f = flags(argv)
    eq("--nproc_per_node", int(one(f, "--nproc_per_node")), per_node)
    eq("--nnodes", int(one(f, "--nnodes")), nnodes)
    i = argv.index(one(f, "--master_port")) + 1
    if not argv[i].endswith("/scripts/training/run_recipe.py"):
        sys.exit(f"megatron-bridge: torchrun runs {argv[i]}, not scripts/training/run_recipe.py")
    eq("--mode", one(f, "--mode"), "pretrain")
    recipe = one(f, "--recipe")
    if not recipe.endswith("_config"):
        sys.exit(f"megatron-bridge: --recipe {recipe} is not a recipe function")
    ov = {}
    for a in argv[i + 1:]:
        if a.startswith("-") or a in (recipe, "pretrain", one(f, "--dataset")):
            continue
        key, sep, value = a.partition("=")
        if not sep:
            sys.exit(f"megatron-bridge: argument {a!r} is no KEY=VALUE override")
        if key not in known:
            sys.exit(f"megatron-bridge: {key}: not a field of Bridge's ConfigContainer "
                     "(tests/data/launcher-fields/megatron-bridge.txt)")
        if key in ov:
            sys.exit(f"megatron-bridge: {key} overridden twice")
        ov[key] = yaml.safe_load(value)  # Hydra's values are YAML scalars
    M = lambda k: ov[f"model.{k}"]
    eq("tensor_model_parallel_size", M("tensor_model_parallel_size"), t)
    eq("pipeline_model_parallel_size", M("pipeline_model_parallel_size"), p)
    eq("virtual_pipeline_model_parallel_size", M("virtual_pipeline_model_parallel_size"),
       v if v > 1 else None)
    cp = g.get("cp", 1)
    eq("context_parallel_size", M("context_parallel_size"), cp)
    eq("world", t * p * cp * d, gpus)
    eq("sequence_parallel", M("sequence_parallel"), g["sequence_parallel"])
    eq("num_layers_in_first_pipeline_stage", M("num_layers_in_first_pipeline_stage"),
       g.get("first_stage_layers") or None)
    eq("num_layers_in_last_pipeline_stage", M("num_layers_in_last_pipeline_stage"),
       g.get("last_stage_layers") or None)
    rc = g["recompute"]
    eq("recompute_granularity", M("recompute_granularity"), None if rc == "none" else rc)
    eq("recompute_method", M("recompute_method"), "uniform" if rc == "full" else None)
    for k, want in (("num_layers", "layers"), ("hidden_size", "hidden"),
                    ("ffn_hidden_size", "ffn"), ("num_attention_heads", "heads"),
                    ("num_query_groups", "kv_heads"), ("vocab_size", "vocab"),
                    ("seq_length", "seq")):
        eq(k, M(k), sh[want])
    eq("dataset.seq_length", ov["dataset.seq_length"], sh["seq"])
    eq("share_embeddings_and_output_weights", M("share_embeddings_and_output_weights"),
       sh["tied_embeddings"])
    llama = sh["family"] == "llama"
    eq("normalization", M("normalization"), "RMSNorm" if llama else "LayerNorm")
    eq("position_embedding_type", M("position_embedding_type"),
       "rope" if llama else "learned_absolute")
    ms = model_settings()
    eq("hidden_dropout", M("hidden_dropout"), ms["dropout"])
    eq("attention_dropout", M("attention_dropout"), ms["dropout"])
    eq("layernorm_epsilon", M("layernorm_epsilon"), ms["eps"])
    eq("rotary_base", ov.get("model.rotary_base"), int(ms["theta"]) if ms["rope"] else None)
    eq("rope_scaling", ov.get("model.rope_scaling", False), ms["scaling"] is not None)
    eq("rope_scaling_factor", ov.get("model.rope_scaling_factor"), ms["scaling"])
    eq("add_bias_linear", M("add_bias_linear"), ms["bias"])
    eq("add_qkv_bias", M("add_qkv_bias"), ms["qkv_bias"])
    eq("train.micro_batch_size", ov["train.micro_batch_size"], mb)
    eq("train.global_batch_size", ov["train.global_batch_size"], gb)
    zero = 3 if g.get("fsdp") else max(g.get("zero", 0), 1 if g["distributed_optimizer"] else 0)
    for sec in ("ddp", "optimizer"):
        eq(f"{sec}.use_distributed_optimizer", ov[f"{sec}.use_distributed_optimizer"], zero > 0)
    eq("ddp.use_megatron_fsdp", ov["ddp.use_megatron_fsdp"], zero > 1)
    eq("ddp.data_parallel_sharding_strategy", ov["ddp.data_parallel_sharding_strategy"],
       {0: "no_shard", 1: "no_shard", 2: "optim_grads", 3: "optim_grads_params"}[zero])
    eq("ddp.overlap_grad_reduce", ov["ddp.overlap_grad_reduce"], g.get("overlap_grad_reduce", False))


def check_svg():
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    tl = [e for e in root.iter(ns + "g") if e.get("id") == "timeline"][0]
    md, S = int(tl.get("data-m")), int(tl.get("data-chunks"))
    elided = [e for e in root.iter(ns + "g") if e.get("id") == "elided"]
    if md < m:  # many micro-batches: a few drawn, the elided middle marked and counted
        if not elided or int(elided[0].get("data-elided-mb")) != m - md:
            sys.exit(f"svg: {md} of {m} micro-batches drawn but no mark of the {m - md} elided")
        if md > 2 * p + 6:
            sys.exit(f"svg: {md} micro-batches drawn for p = {p}")
    elif md != m or elided:
        sys.exit(f"svg: {md} of {m} micro-batches drawn")
    boxes, rows = {}, {}
    for r in root.iter(ns + "rect"):
        cls = (r.get("class") or "").split()
        if not cls or cls[0] not in ("fwd", "bwd", "wgt"):
            continue
        key = (int(r.get("data-mb")), int(r.get("data-pos")), cls[0])
        if key in boxes:
            sys.exit(f"svg: two boxes for {key}")
        x, w = float(r.get("x")), float(r.get("width"))
        if ("o" in cls) != (int(r.get("data-chunk")) % 2 == 1):
            sys.exit(f"svg: {key}: odd chunks, and only they, are drawn lighter")
        boxes[key] = (x, x + w)
        rows.setdefault(int(r.get("data-stage")), []).append((x, x + w, r.get("data-overlap")))
    rows_out = [e for e in root.iter(ns + "text") if e.get("class") == "rows-elided"]
    if rows_out:  # many ranks: the first and last four drawn, the rest counted
        eq("ranks drawn", sorted(rows), list(range(4)) + list(range(p - 4, p)))
        eq("ranks left out", int(rows_out[0].get("data-ranks")), p - 8)
    else:
        for k in range(md):
            for gs in range(S):
                for kind in ("fwd", "bwd"):
                    if (k, gs, kind) not in boxes:
                        sys.exit(f"svg: no {kind} box for mb {k} at chunk {gs} of its path")
        eq("boxes", len([k for k in boxes if k[2] != "wgt"]), 2 * md * S)
    eps = 0.11  # coordinates are printed to 0.1 px
    for s, row in rows.items():  # a rank does one thing at a time (F&B halves share a box)
        row.sort()
        for a, b in zip(row, row[1:]):
            if b[0] < a[1] - eps and not (a[2] and b[2] and abs(a[0] - b[0]) < eps):
                sys.exit(f"svg: boxes overlap on rank {s}: {a} {b}")
    B = lambda k, gs, kind: boxes.get((k, gs, kind), (-1e18, -1e18))  # a left-out rank's: no bound
    for k in range(md):  # forward after the previous chunk's, backward after the next's
        for gs in range(S):
            if (k, gs, "fwd") not in boxes:
                continue
            if gs > 0 and B(k, gs, "fwd")[0] < B(k, gs - 1, "fwd")[1] - eps:
                sys.exit(f"svg: forward of mb {k} at chunk {gs} starts before its input")
            nxt = B(k, gs + 1, "bwd") if gs + 1 < S else B(k, gs, "fwd")
            if B(k, gs, "bwd")[0] < nxt[1] - eps:
                sys.exit(f"svg: backward of mb {k} at chunk {gs} starts before its gradient")
            if (k, gs, "wgt") in boxes and boxes[(k, gs, "wgt")][0] < boxes[(k, gs, "bwd")][1] - eps:
                sys.exit(f"svg: weight gradient of mb {k} at chunk {gs} before its input gradient")
    if g["schedule"].startswith("zb") and not any(k[2] == "wgt" for k in boxes):
        sys.exit("svg: a zero-bubble schedule without weight-gradient boxes")
    # the schedule's order on rank 0
    order = [k[2] for k, iv in sorted(boxes.items(), key=lambda kv: kv[1][0])
             if k[1] == 0 and k[2] != "wgt"]
    if g["schedule"] == "gpipe":
        eq("gpipe order", order, ["fwd"] * (md * v) + ["bwd"] * (md * v))
    elif g["schedule"] == "1f1b":
        warm = min(p - 1, md)
        want = ["fwd"] * warm + ["fwd", "bwd"] * (md - warm) + ["bwd"] * warm
        eq("1f1b order", order, want)
    if os.path.getsize(path) > 300 * 1024:
        sys.exit(f"svg: {os.path.getsize(path)} bytes, over 300 KB")
    legend = " ".join(t.text or "" for e in root.iter(ns + "g") if e.get("id") == "legend"
                      for t in e.iter(ns + "text"))
    for want in ("forward", "backward", "idle (bubble)", "communication (dark end)"):
        if want not in legend:
            sys.exit(f"svg: the legend lacks {want!r}")
    if v > 1 and "odd model chunk" not in legend:
        sys.exit("svg: the legend lacks the odd-chunk shade")
    parts = [r for r in root.iter(ns + "rect") if r.get("class") == "part"]
    if not parts:
        sys.exit("svg: no time breakdown bar")


if fmt == "megatron":
    check_megatron_like(False)
elif fmt == "megatron-deepspeed":
    check_megatron_like(True)
elif fmt == "deepspeed":
    c = json.load(open(path))
    eq("train_batch_size", c["train_batch_size"], gb)
    eq("train_micro_batch_size_per_gpu", c["train_micro_batch_size_per_gpu"], mb)
    eq("gradient_accumulation_steps", c["gradient_accumulation_steps"], m)
    eq("batch identity", c["train_micro_batch_size_per_gpu"] * c["gradient_accumulation_steps"]
       * (gpus // (t * p)), c["train_batch_size"])
    eq("zero_optimization.stage", c["zero_optimization"]["stage"],
       1 if g["distributed_optimizer"] else 0)
    eq("bf16.enabled", c["bf16"]["enabled"], True)
elif fmt == "torchtitan":
    check_torchtitan_module()
elif fmt == "megatron-bridge":
    import yaml
    check_megatron_bridge()
elif fmt == "torchtitan-toml":
    import tomllib
    c = tomllib.load(open(path, "rb"))
    par, tr = c["parallelism"], c["training"]
    eq("tensor_parallel_degree", par["tensor_parallel_degree"], t)
    eq("pipeline_parallel_degree", par["pipeline_parallel_degree"], p)
    eq("dp degrees", par["data_parallel_replicate_degree"] * par["data_parallel_shard_degree"], d)
    eq("world", par["data_parallel_replicate_degree"] * par["data_parallel_shard_degree"] * t * p,
       gpus)
    eq("global_batch_size", tr["global_batch_size"], gb)
    eq("seq_len", tr["seq_len"], sh["seq"])
    if p > 1:
        eq("pipeline_parallel_schedule", par["pipeline_parallel_schedule"],
           {"1f1b": "1F1B", "gpipe": "GPipe", "interleaved": "Interleaved1F1B"}[g["schedule"]])
        eq("pipeline_parallel_microbatch_size", par["pipeline_parallel_microbatch_size"], mb)
        eq("microbatches", tr["local_batch_size"] // par["pipeline_parallel_microbatch_size"], m)
        # torchtitan's pipeline_llm: without layers_per_stage, 1 stage per rank for 1F1B and
        # GPipe, 2 for Interleaved1F1B; with k, ceil((L + 2) / k) stages (embedding and output
        # count as a layer each), which must be the plan's p*v
        k = par.get("pipeline_parallel_layers_per_stage")
        L = sh["layers"]
        stages = (p * (2 if g["schedule"] == "interleaved" else 1) if k is None
                  else -(-(L + 2) // k))
        eq("torchtitan's stage count", stages, p * v)
    else:
        eq("local_batch_size", tr["local_batch_size"], mb)
    eq("activation_checkpoint.mode", c["activation_checkpoint"]["mode"], g["recompute"])
    eq("model.name", c["model"]["name"], "llama3")
elif fmt in ("nemo1", "nanotron"):
    import yaml
    c = yaml.safe_load(open(path))
    if fmt == "nemo1":
        tr, mo = c["trainer"], c["model"]
        eq("trainer.devices", tr["devices"], per_node)
        eq("trainer.num_nodes", tr["num_nodes"], nnodes)
        eq("tensor_model_parallel_size", mo["tensor_model_parallel_size"], t)
        eq("pipeline_model_parallel_size", mo["pipeline_model_parallel_size"], p)
        eq("virtual_pipeline_model_parallel_size", mo["virtual_pipeline_model_parallel_size"],
           v if v > 1 else None)
        eq("micro_batch_size", mo["micro_batch_size"], mb)
        eq("global_batch_size", mo["global_batch_size"], gb)
        eq("sequence_parallel", mo["sequence_parallel"], g["sequence_parallel"])
        rc = g["recompute"]
        eq("activations_checkpoint_granularity", mo["activations_checkpoint_granularity"],
           None if rc == "none" else rc)
        eq("activations_checkpoint_method", mo["activations_checkpoint_method"],
           "uniform" if rc == "full" else None)
        eq("activations_checkpoint_num_layers", mo["activations_checkpoint_num_layers"],
           1 if rc == "full" else None)
        for k, want in (("num_layers", "layers"), ("hidden_size", "hidden"),
                        ("ffn_hidden_size", "ffn"), ("num_attention_heads", "heads"),
                        ("num_query_groups", "kv_heads"), ("encoder_seq_length", "seq"),
                        ("max_position_embeddings", "seq")):
            eq(k, mo[k], sh[want])
        eq("defaults", c["defaults"], ["megatron_gpt_config", "_self_"])
        eq("model.data.data_prefix", mo["data"]["data_prefix"], "${fill_in.model.data.data_prefix}")
        eq("model.data.seq_length", mo["data"]["seq_length"], sh["seq"])
        eq("model.tokenizer.library", mo["tokenizer"]["library"],
           "huggingface" if sh["family"] == "llama" else "megatron")
        eq("make_vocab_size_divisible_by", mo.get("make_vocab_size_divisible_by"),
           1 if sh["vocab"] % t == 0 else None)
        ms = model_settings()
        eq("hidden_dropout", mo["hidden_dropout"], ms["dropout"])
        eq("attention_dropout", mo["attention_dropout"], ms["dropout"])
        eq("layernorm_epsilon", mo["layernorm_epsilon"], ms["eps"])
        eq("normalization", mo["normalization"], "rmsnorm" if ms["rms"] else "layernorm")
        eq("bias", mo["bias"], ms["bias"])
        eq("rotary_base", mo.get("rotary_base"), ms["theta"] if ms["rope"] else None)
        eq("scale_positional_embedding", mo.get("scale_positional_embedding", False),
           ms["scaling"] is not None)
        eq("optim.name", mo["optim"]["name"],
           "distributed_fused_adam" if g["distributed_optimizer"] else "fused_adam")
    else:
        par, tok, mc = c["parallelism"], c["tokens"], c["model"]["model_config"]
        eq("dp", par["dp"], d)
        eq("pp", par["pp"], p)
        eq("tp", par["tp"], t)
        eq("pp_engine", par["pp_engine"], "afab" if g["schedule"] == "gpipe" else "1f1b")
        eq("tp_mode", par["tp_mode"], "REDUCE_SCATTER" if g["sequence_parallel"] else "ALL_REDUCE")
        eq("micro_batch_size", tok["micro_batch_size"], mb)
        eq("batch_accumulation_per_replica", tok["batch_accumulation_per_replica"], m)
        eq("sequence_length", tok["sequence_length"], sh["seq"])
        for k, want in (("num_hidden_layers", "layers"), ("hidden_size", "hidden"),
                        ("intermediate_size", "ffn"), ("num_attention_heads", "heads"),
                        ("num_key_value_heads", "kv_heads"), ("vocab_size", "vocab")):
            eq(k, mc[k], sh[want])
        ms = model_settings()
        eq("rms_norm_eps", mc["rms_norm_eps"], ms["eps"])
        eq("rope_theta", mc["rope_theta"], ms["theta"])
        eq("rope_scaling", mc["rope_scaling"], None)
        eq("attention_bias", mc["attention_bias"], ms["qkv_bias"])
        eq("zero_stage", c["optimizer"]["zero_stage"], 1 if g["distributed_optimizer"] else 0)
        check_schema("", c, NANOTRON)
        eq("recompute_layer", par.get("recompute_layer", False), g["recompute"] == "full")
elif fmt == "svg":
    check_svg()
elif fmt == "report":
    text = open(path).read()
    pr = plan["predicted"]
    for want in (f"{t} x p {p} x d {d}", f"global batch {gb} = {m} micro-batches",
                 f"iteration     {pr['iteration_s']:.4g} s", f"MFU / HFU     {100 * pr['mfu']:.1f}%",
                 f"{pr['peak_gib']:.1f} of {pr['capacity_gib']:.1f} GiB"):
        if want not in text:
            sys.exit(f"report: \"{want}\" missing")
    bar = [ln for ln in text.splitlines() if ln.startswith("  [")][0]
    eq("breakdown bar width", len(bar), 2 + 1 + 50 + 1)
else:
    sys.exit(f"unknown format {fmt}")
