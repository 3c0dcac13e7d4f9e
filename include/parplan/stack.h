/*
 * stack.h - software-stack profiles (format "parplan-stack/1", stacks/NAME.json).
 *
 * A stack profile says what a training stack does, separate from the hardware: which attention
 * kernel it runs (unfused: the scores go through HBM; flash: they never do, and the backward
 * recomputes them) and how fast that kernel runs, which element-wise ops it fuses, how it sends
 * pipeline activations, which communication overlaps it offers, the fraction of the GPU's
 * maximum achievable matmul throughput its GEMMs sustain, and the HBM efficiency of its
 * optimizer step.  Every number in the file carries a "source".
 *
 * Invariants after a successful load: efficiencies and fractions in (0, 1], headroom >= 0.
 * A pp_stack is a plain value (no pointers): copy it freely.
 */
#ifndef PARPLAN_STACK_H
#define PARPLAN_STACK_H

#include "parplan/error.h"

typedef enum pp_attn_kernel { PP_ATTN_UNFUSED = 0, PP_ATTN_FLASH } pp_attn_kernel;

/*
 * Memory a stack uses that the cost model does not count, when its file does not say: NCCL's
 * communication buffers, NCCL_BUFFSIZE 4 MiB (NCCL documentation, Environment Variables) per
 * channel and ring neighbour, up to 32 channels (NCCL_MAX_NCHANNELS) and 2 neighbours, for about
 * 4 communicators of a 3-D parallel job (tensor, pipeline, data, embedding groups):
 * 4 MiB x 32 x 2 x 4 = 1 GiB.  The hardware profile's usable_memory_fraction already keeps the
 * CUDA context and allocator fragmentation out.
 */
#define PP_MEM_HEADROOM_DEFAULT_GIB 1.0

typedef struct pp_stack {
	char name[64];
	pp_attn_kernel attention;
	int causal_skip;            /* flash: fully masked blocks are skipped (half the FLOPs) */
	double flash_fwd_eff;       /* flash forward / backward throughput, fraction of the */
	double flash_bwd_eff;       /* dense peak of the graph's dtype */
	int fused_bias_dropout_add; /* dropout + residual add in one kernel */
	int fused_bias_act;         /* bias + GELU / SwiGLU: the bias add rides on the activation */
	int fused_cross_entropy;    /* one fused softmax-cross-entropy kernel (else separate fp32 ops) */
	int scatter_gather;         /* pipeline sends b*s*h/t, then an all-gather over t */
	int p2p_overlap;            /* pipeline sends overlap compute */
	int tp_comm_overlap;        /* --tp-comm-overlap available */
	int grad_reduce_overlap;    /* --overlap-grad-reduce available */
	int param_gather_overlap;   /* --overlap-param-gather available */
	double tp_overlap_sm_fraction; /* SMs the overlapped TP collectives take from GEMMs */
	int tp_async_dgrad;         /* a column-parallel linear's backward collective (all-reduce,
				     * or reduce-scatter with sequence parallelism) runs while its
				     * weight gradient is computed (Megatron-LM
				     * LinearWithGradAccumulationAndAsyncCommunication) */
	int moe_a2a_overlap;        /* the expert all-to-all of one micro-batch runs behind the
				     * paired forward/backward of another (Megatron-Core
				     * --overlap-moe-expert-parallel-comm, "combined 1F1B") */
	double gemm_efficiency;     /* fraction of the device's max achievable matmul rate */
	double optimizer_hbm_eff;   /* fraction of HBM bandwidth the optimizer step reaches */
	double grad_reduce_bytes;   /* bytes per gradient element in the data-parallel reduction */
	int grad_norm_pass;         /* gradient clipping reads every gradient once */
	int zero_grad_pass;         /* the gradient buffer is zeroed every iteration */
	double mem_headroom_gib;    /* memory the model does not count (NCCL buffers, workspaces),
				     * taken off the usable memory; PP_MEM_HEADROOM_DEFAULT_GIB when
				     * a stack file gives none, 0 in the legacy model */
	int max_zero;               /* highest ZeRO stage it runs (FSDP = 3); 1: the distributed
				     * optimizer only (the default and the legacy stack) */
	int context_parallel;       /* runs context parallelism (--cp > 1) */
	int legacy;                 /* the built-in pre-stack model (pp_stack_legacy); 0 from files */
} pp_stack;

/** The stack a plan uses when it names none. */
#define PP_STACK_DEFAULT "megatron-core"

/**
 * The built-in legacy stack: what the cost model did before stack profiles (SC21-era
 * Megatron-LM), so that a caller that never sets a stack keeps its numbers.
 */
void pp_stack_legacy(pp_stack *s);

/** Load a parplan-stack/1 file.  On failure @err names the file and the JSON path. */
int pp_stack_load(const char *path, pp_stack *out, pp_error *err);
/** Same from text; @name_for_errors stands for the file in errors. */
int pp_stack_parse(const char *name_for_errors, const char *text, pp_stack *out, pp_error *err);

/**
 * Resolve @name_or_file: a path (contains '/' or ends in ".json") is loaded as is; a bare name
 * NAME is looked up as @dir/NAME.json (dir NULL: "stacks").  PP_ENOTFOUND names what was tried.
 */
int pp_stack_resolve(const char *name_or_file, const char *dir, pp_stack *out, pp_error *err);

#endif
