/*
 * search_mcmc.c - FlexFlow's Markov chain Monte Carlo search (Jia et al., "Beyond Data and Model
 * Parallelism for Deep Neural Networks", SysML 2019, section 4.1).
 *
 * The state is a global plan plus the configs of the free ops (space.h).  A proposal changes one
 * free op's config or one global degree (t, the stage layout p, the micro-batch, schedule and
 * v, recompute, sequence parallelism, distributed optimizer; d follows as gpus/(t*p)), which is
 * symmetric, so Metropolis-Hastings accepts it with probability min(1, exp(-beta * delta)),
 * delta being the relative change of the cost.  A plan that does not fit costs its time times
 * 2 + 10 * (its excess memory fraction), so the chain can walk out of infeasible regions while
 * only fitting plans are kept.  Two chains run one after the other, each with half the steps
 * (or half the time): one from the best data-parallel plan, one from Megatron's default (t =
 * node size, the first stage layout that fits, uneven ones included, b = 1, selective recompute
 * or else full, sequence parallel, distributed optimizer), the lower-cost start first; a chain
 * jumps back to its best state after 2000 steps without improvement.  The sequence-parallel flag is not free: with per-op configs the cost
 * model reads the configs, so the flag is derived from them (pp_space_sequence_parallel) and
 * its proposal flips every free norm, dropout and add op between SEQUENCE and REPLICATE
 * together; plans equal but for the flag and equally fast are kept once.  Everything random
 * comes from one PCG32 seeded with --seed; the clock is only read to stop, so with --max-steps
 * the result depends on the seed alone.
 */
#include "checked_int.h"
#include "parplan/comm.h"
#include "parplan/pcg.h"
#include "parplan/search.h"
#include "search_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MCMC_RESTART 2000
#define PP_MCMC_DEFAULT_STEPS 50000
#define N_KINDS 8

typedef struct chain {
	const pp_costctx *c;
	const pp_graph *g;
	const pp_search_opts *o;
	int *free_ops, n_free;
	int t_vals[64], n_t;
	int (*layouts)[3];
	int n_layouts;
	int *b_vals, n_b;
	int sv[128][2], n_sv;       /* (schedule, v) */
	uint8_t *mega;              /* Megatron's configs for the current t (scratch) */
	/* top-K kept, best first; grown as plans come (K may be far more than the plans met) */
	pp_candidate *top;
	int k, n_top, cap_top;
	double min_peak_gib, capacity_gib;
	pp_search__watch w;         /* the stop flag and the time limit, while finding the starts */
	pp_cost_memo *memo;         /* per-set totals shared by the steps (cost_memo.c) */
} chain;

static double energy(const pp_cost *cost)
{
	double over;
	if (cost->feasible)
		return cost->iteration_s;
	over = cost->capacity_gib > 0 ? cost->peak_gib / cost->capacity_gib - 1.0 : 1.0;
	if (over < 0)
		over = 0;
	return cost->iteration_s * (2.0 + 10.0 * over);
}

/* score a state (the overlaps it takes set first, a fixed plan's kept); -1 when the cost model
 * rejects it */
static int score(chain *ch, pp_global *gl, const uint8_t *cfg, pp_cost *cost)
{
	if (!ch->o->fixed)
		pp_space_set_overlaps(ch->c, &ch->o->space, gl);
	if (pp_space_valid(ch->c, &ch->o->space, gl, NULL) < 0)
		return -1;
	if (pp_cost_eval_memo(ch->c, ch->memo, gl, cfg, cost) < 0)
		return -1;
	if (ch->min_peak_gib == 0 || cost->peak_gib < ch->min_peak_gib)
		ch->min_peak_gib = cost->peak_gib;
	if (cost->capacity_gib > 0)
		ch->capacity_gib = cost->capacity_gib;
	return 0;
}

static int same_state(const chain *ch, const pp_candidate *a, const pp_global *gl, const uint8_t *cfg)
{
	int i;
	if (pp_space_cmp(&a->global, 0, gl, 0) != 0)
		return 0;
	for (i = 0; i < ch->n_free; i++)
		if (a->cfg[ch->free_ops[i]] != cfg[ch->free_ops[i]])
			return 0;
	return 1;
}

/* keep a fitting state among the K best distinct ones; -1 when out of memory */
static int offer(chain *ch, const pp_global *gl, const uint8_t *cfg, const pp_cost *cost)
{
	int i, pos;
	uint8_t *buf;
	if (!cost->feasible)
		return 0;
	if (ch->n_top == ch->k &&
	    pp_space_cmp(gl, cost->iteration_s, &ch->top[ch->k - 1].global, ch->top[ch->k - 1].cost.iteration_s) >= 0)
		return 0;
	/* one entry per state, and per (global plan, time): configs that change nothing are one plan,
	 * also where such a config is a norm or dropout op's and so moves the derived SP flag */
	for (i = 0; i < ch->n_top; i++) {
		pp_global x = ch->top[i].global, y = *gl;
		x.sequence_parallel = y.sequence_parallel = 0;
		if (same_state(ch, &ch->top[i], gl, cfg) ||
		    (pp_space_cmp(&x, 0, &y, 0) == 0 &&
		     fabs(ch->top[i].cost.iteration_s - cost->iteration_s) <= 1e-9 * cost->iteration_s))
			return 0;
	}
	if (ch->n_top < ch->k && ch->n_top == ch->cap_top) {
		int nc = ch->cap_top ? 2 * ch->cap_top : 16;
		pp_candidate *nt;
		if (nc > ch->k)
			nc = ch->k;
		if (!(nt = realloc(ch->top, sizeof(*nt) * (size_t)nc)))
			return -1;
		memset(nt + ch->cap_top, 0, sizeof(*nt) * (size_t)(nc - ch->cap_top));
		ch->top = nt;
		ch->cap_top = nc;
	}
	pos = ch->n_top < ch->k ? ch->n_top : ch->k - 1;
	/* reuse the last slot's buffer */
	if (!ch->top[pos].cfg && !(ch->top[pos].cfg = malloc((size_t)(ch->g->n_ops ? ch->g->n_ops : 1))))
		return -1;
	if (ch->n_top < ch->k)
		ch->n_top++;
	buf = ch->top[pos].cfg;
	while (pos > 0 && pp_space_cmp(gl, cost->iteration_s, &ch->top[pos - 1].global,
				       ch->top[pos - 1].cost.iteration_s) < 0) {
		ch->top[pos] = ch->top[pos - 1];
		pos--;
	}
	ch->top[pos].global = *gl;
	ch->top[pos].cost = *cost;
	ch->top[pos].cfg = buf;
	memcpy(buf, cfg, (size_t)ch->g->n_ops);
	return 0;
}

static int is_sp_op(pp_op_type t)
{
	return t == PP_OP_LAYERNORM || t == PP_OP_RMSNORM || t == PP_OP_DROPOUT || t == PP_OP_ADD;
}

/* pp_space_sequence_parallel over the free ops only (the ops it reads: those outside the layers
 * and each class's representative layer), so a step costs what the free ops cost, not the graph */
static int sp_flag(const chain *ch, const pp_global *gl, const uint8_t *cfg)
{
	int i, n = 0;
	if (gl->t <= 1)
		return 0;
	for (i = 0; i < ch->n_free; i++) {
		int op = ch->free_ops[i];
		if (!is_sp_op(ch->g->ops[op].type))
			continue;
		if (cfg[op] != PP_CFG_SEQUENCE)
			return 0;
		n++;
	}
	return n > 0;
}

/* the free ops' configs of @from into @to (the others are never read: the cost model reads the
 * representatives, pp_space_spread_configs fills the rest at the end) */
static void copy_free(const chain *ch, uint8_t *to, const uint8_t *from)
{
	int i;
	for (i = 0; i < ch->n_free; i++)
		to[ch->free_ops[i]] = from[ch->free_ops[i]];
}

/* make the free ops' configs suit a new t or micro-batch */
static void repair(chain *ch, const pp_global *old, const pp_global *gl, uint8_t *cfg)
{
	int i;
	if (gl->t == old->t && gl->micro_batch == old->micro_batch &&
	    gl->sequence_parallel == old->sequence_parallel)
		return;
	for (i = 0; i < ch->n_free; i++) {
		int op = ch->free_ops[i];
		if (gl->t <= 1)
			cfg[op] = PP_CFG_REPLICATE;
		else if (old->t <= 1 || (cfg[op] == PP_CFG_SAMPLE && gl->micro_batch % gl->t))
			cfg[op] = (uint8_t)pp_strategy_megatron_op(ch->g, gl, op);
	}
}

/*
 * Expert parallelism of an MoE (issue 18.5): a valid (ep, etp) for @gl's t and d, drawn from
 * @r, or with @r NULL the leanest (largest ep, etp = 1).  The routed experts' configs follow etp
 * (COLUMN is expert tensor parallelism).  Dense graphs are left alone (and draw nothing).
 */
static void pick_ep(const pp_graph *g, pp_global *gl, uint8_t *cfg, pp_pcg32 *r)
{
	long long fold = (long long)gl->t * gl->cp * gl->d;
	int ep[64], etp[64], n = 0, e, k, i;
	if (!g->experts)
		return;
	for (k = 0; k < (gl->t > 1 ? 2 : 1); k++)
		for (e = (int)g->experts; e >= 1 && n < 64; e--) {
			int et = k ? gl->t : 1;
			if (g->experts % e || fold % ((long long)e * et) || g->expert_ffn % et)
				continue;
			ep[n] = e;
			etp[n++] = et;
		}
	if (!n)
		return;
	i = r ? (int)pp_pcg32_bounded(r, (uint32_t)n) : 0;
	gl->ep = ep[i];
	gl->etp = etp[i];
	for (i = 0; cfg && i < g->n_ops; i++)
		if (g->ops[i].type == PP_OP_EXPERTS && gl->t > 1)
			cfg[i] = (uint8_t)(gl->etp > 1 ? PP_CFG_COLUMN : PP_CFG_SEQUENCE);
}

static int ep_valid(const pp_graph *g, const pp_global *gl)
{
	long long fold = (long long)gl->t * gl->cp * gl->d;
	return !g->experts || (g->experts % gl->ep == 0 && fold % ((long long)gl->ep * gl->etp) == 0 &&
			       (gl->etp == 1 || gl->etp == gl->t));
}

/* propose a neighbour of (gl, cfg) into (ng, ncfg); 0 when nothing changed */
static int propose(chain *ch, pp_pcg32 *r, const pp_global *gl, pp_global *ng, uint8_t *ncfg)
{
	int kind, j;
	pp_cfg opts[PP_CFG_COUNT];
	*ng = *gl;
	if (ch->o->fixed || (gl->t > 1 && ch->n_free > 0 && pp_pcg32_bounded(r, 2) == 0))
		kind = 0;
	else
		kind = 1 + (int)pp_pcg32_bounded(r, N_KINDS - 1);
	switch (kind) {
	case 0: {
		int op = ch->free_ops[pp_pcg32_bounded(r, (uint32_t)ch->n_free)], n, cur = -1;
		n = pp_space_op_configs(ch->g, gl, op, opts);
		for (j = 0; j < n; j++)
			if (opts[j] == ncfg[op])
				cur = j;
		if (n < 2)
			return 0;
		if (cur < 0) {
			ncfg[op] = (uint8_t)opts[pp_pcg32_bounded(r, (uint32_t)n)];
		} else {
			j = (int)pp_pcg32_bounded(r, (uint32_t)(n - 1));
			ncfg[op] = (uint8_t)opts[j >= cur ? j + 1 : j];
		}
		ng->sequence_parallel = sp_flag(ch, ng, ncfg);
		return 1;
	}
	case 1:
		ng->t = ch->t_vals[pp_pcg32_bounded(r, (uint32_t)ch->n_t)];
		break;
	case 2: {
		int li = (int)pp_pcg32_bounded(r, (uint32_t)ch->n_layouts);
		ng->p = ch->layouts[li][0];
		ng->first_stage_layers = ch->layouts[li][1];
		ng->last_stage_layers = ch->layouts[li][2];
		break;
	}
	case 3:
		ng->micro_batch = ch->b_vals[pp_pcg32_bounded(r, (uint32_t)ch->n_b)];
		break;
	case 4:
		j = (int)pp_pcg32_bounded(r, (uint32_t)ch->n_sv);
		ng->schedule = (pp_schedule)ch->sv[j][0];
		ng->virtual_stages = ch->sv[j][1];
		break;
	case 5:
		ng->recompute = (pp_recompute)pp_pcg32_bounded(r, 3);
		break;
	case 6: {
		/* sequence parallelism on or off: every free norm, dropout and add op together */
		int on = !gl->sequence_parallel;
		if (gl->t <= 1)
			return 0;
		for (j = 0; j < ch->n_free; j++) {
			int op = ch->free_ops[j];
			if (is_sp_op(ch->g->ops[op].type))
				ncfg[op] = (uint8_t)(on ? PP_CFG_SEQUENCE : PP_CFG_REPLICATE);
		}
		ng->sequence_parallel = sp_flag(ch, ng, ncfg);
		return ng->sequence_parallel != gl->sequence_parallel;
	}
	default:
		ng->distributed_optimizer = !gl->distributed_optimizer;
		break;
	}
	if ((long long)ng->t * ng->p > ch->o->space.gpus || ch->o->space.gpus % (ng->t * ng->p))
		return 0;
	ng->d = ch->o->space.gpus / (ng->t * ng->p);
	if (ch->g->experts && (!ep_valid(ch->g, ng) || pp_pcg32_bounded(r, 2) == 0))
		pick_ep(ch->g, ng, NULL, r); /* the experts' configs follow below (repair) */
	if (pp_space_cmp(gl, 0, ng, 0) == 0)
		return 0;
	repair(ch, gl, ng, ncfg);
	if (ch->g->experts && ng->t > 1)
		for (j = 0; j < ch->g->n_ops; j++)
			if (ch->g->ops[j].type == PP_OP_EXPERTS)
				ncfg[j] = (uint8_t)(ng->etp > 1 ? PP_CFG_COLUMN : PP_CFG_SEQUENCE);
	/* the flag follows the configs (the cost model reads those) */
	ng->sequence_parallel = sp_flag(ch, ng, ncfg);
	return 1;
}

/* How many divisors @n >= 1 has. */
static int n_divisors(int n)
{
	int i, k = 0;
	for (i = 1; (long long)i * i <= n; i++)
		if (n % i == 0)
			k += (long long)i * i == n ? 1 : 2;
	return k;
}

/* The divisors of @n >= 1 in ascending order into @out (n_divisors(n) of them); returns how many. */
static int divisors(int n, int *out)
{
	int i, lo = 0, k = n_divisors(n), hi = k - 1;
	for (i = 1; (long long)i * i <= n; i++)
		if (n % i == 0) {
			out[lo++] = i;
			if ((long long)i * i != n)
				out[hi--] = n / i;
		}
	return k;
}

static void free_chain(chain *ch)
{
	int i;
	free(ch->free_ops);
	free(ch->layouts);
	free(ch->b_vals);
	free(ch->mega);
	pp_cost_memo_free(ch->memo);
	if (ch->top)
		for (i = 0; i < ch->cap_top; i++)
			free(ch->top[i].cfg);
	free(ch->top);
}

/* one starting point of a chain */
typedef struct start {
	pp_global gl;
	uint8_t *cfg;
	pp_cost cost;
	int ok;
} start;

/* keep the lower-energy candidate in @st */
static void consider(chain *ch, start *st, const pp_global *gl, const uint8_t *cfg, const pp_cost *cost)
{
	if (!st->ok || energy(cost) < energy(&st->cost)) {
		st->ok = 1;
		st->gl = *gl;
		st->cost = *cost;
		memcpy(st->cfg, cfg, (size_t)ch->g->n_ops);
	}
}

/*
 * The chains' starting points (FlexFlow starts from data parallelism and from an expert
 * design): the best data-parallel plan (t = p = 1) and Megatron's default (t = the largest valid
 * degree within a node, the first stage layout in order (p ascending, uneven ones included)
 * that fits, b = 1, selective recompute or else full, sequence parallel, distributed optimizer),
 * lower energy first.  Returns how many (0: neither scores).  Stopped (ch->w), the layout walk
 * still looks for a start that fits, but for STOP_GRACE more layouts at most: a search stopped
 * at once returns a plan where one is near, and ends soon where none is.
 */
#define STOP_GRACE 256
#define N_STARTS 3

/* the exhaustive walk's best plan (Megatron's configs) into the start it is given */
typedef struct best_walk {
	chain *ch;
	start *st;
} best_walk;

static int best_visit(void *arg, const pp_global *gl, const pp_cost *cost)
{
	best_walk *b = arg;
	if (!b->st->ok || pp_space_cmp(gl, cost->iteration_s, &b->st->gl, b->st->cost.iteration_s) < 0) {
		b->st->ok = 1;
		b->st->gl = *gl;
		b->st->cost = *cost;
	}
	return pp_search__watch_check(&b->ch->w, 16) != 0;
}

/*
 * The optimum over the global settings under Megatron's configs (the memoized exhaustive walk,
 * src/space.c; far cheaper than the default steps: 0.04-0.08 s for GPT-3 175B on 1024 or
 * 131,072 GPUs against about 0.1 s for 50,000 steps) into @st: the first chain starts there and
 * explores per-op configs and the neighbouring plans (issue 13, point 2).
 */
static void exhaustive_start(chain *ch, start *st)
{
	best_walk b;
	pp_space_stats stats;
	b.ch = ch;
	b.st = st;
	if (pp_space_walk(ch->c, &ch->o->space, best_visit, &b, &stats, NULL) < 0)
		return;
	if (stats.min_peak_gib > 0 && (ch->min_peak_gib == 0 || stats.min_peak_gib < ch->min_peak_gib))
		ch->min_peak_gib = stats.min_peak_gib;
	if (stats.capacity_gib > 0)
		ch->capacity_gib = stats.capacity_gib;
	if (st->ok)
		pp_strategy_megatron(ch->g, &st->gl, st->cfg);
}

static int start_states(chain *ch, start *st)
{
	const pp_graph *g = ch->g;
	const pp_hw *hw = pp_costctx_hw(ch->c);
	int i, rc, li, ti, n = 0, grace = STOP_GRACE;
	pp_global gl = PP_GLOBAL_INIT;
	pp_cost cost;
	uint8_t *cfg = ch->mega; /* scratch: both starts use Megatron's configs */

	if (ch->o->fixed) {
		gl = *ch->o->fixed;
		pp_strategy_megatron(g, &gl, cfg);
		if (score(ch, &gl, cfg, &cost) < 0)
			return 0;
		consider(ch, &st[0], &gl, cfg, &cost);
		return 1;
	}
	gl.global_batch = ch->o->space.global_batch;
	gl.d = ch->o->space.gpus;
	{
		/* no precision move: the fastest precision searched (pp_space_precisions) */
		int prec[3];
		gl.precision = (pp_precision)prec[pp_space_precisions(ch->c, &ch->o->space, prec) - 1];
	}
	for (i = 0; i < ch->n_b; i++)
		for (rc = 0; rc < 3; rc++)
			for (li = 0; li < 2; li++) {
				gl.micro_batch = ch->b_vals[i];
				gl.recompute = (pp_recompute)rc;
				gl.distributed_optimizer = li;
				pick_ep(g, &gl, NULL, NULL);
				pp_strategy_megatron(g, &gl, cfg);
				if (score(ch, &gl, cfg, &cost) == 0)
					consider(ch, &st[0], &gl, cfg, &cost);
			}
	{
		int prec[3];
		gl = (pp_global)PP_GLOBAL_INIT;
		gl.precision = (pp_precision)prec[pp_space_precisions(ch->c, &ch->o->space, prec) - 1];
	}
	gl.global_batch = ch->o->space.global_batch;
	for (ti = ch->n_t - 1; ti >= 0; ti--)
		if (ch->t_vals[ti] <= pp_hw_domain_block(hw))
			break;
	gl.t = ti >= 0 ? ch->t_vals[ti] : 1;
	gl.sequence_parallel = gl.t > 1;
	gl.distributed_optimizer = 1;
	/* every stage layout in order (p ascending, uneven ones included), selective recompute and
	 * then full: the first that fits, else the lowest-energy one */
	for (rc = 0; rc < 2 && !(st[1].ok && st[1].cost.feasible) && grace > 0; rc++) {
		gl.recompute = rc ? PP_RECOMPUTE_FULL : PP_RECOMPUTE_SELECTIVE;
		for (li = 0; li < ch->n_layouts; li++) {
			if (pp_search__watch_check(&ch->w, 8) && ((st[0].ok && st[0].cost.feasible) || --grace <= 0))
				break;
			gl.p = ch->layouts[li][0];
			gl.first_stage_layers = ch->layouts[li][1];
			gl.last_stage_layers = ch->layouts[li][2];
			if (ch->o->space.gpus % (gl.t * gl.p))
				continue;
			gl.d = ch->o->space.gpus / (gl.t * gl.p);
			pick_ep(g, &gl, NULL, NULL);
			pp_strategy_megatron(g, &gl, cfg);
			if (score(ch, &gl, cfg, &cost) < 0)
				continue;
			consider(ch, &st[1], &gl, cfg, &cost);
			if (cost.feasible)
				break;
		}
	}
	if (st[0].ok && st[1].ok && pp_space_cmp(&st[0].gl, 0, &st[1].gl, 0) == 0)
		st[1].ok = 0; /* one plan: one chain */
	exhaustive_start(ch, &st[2]);
	for (i = 0; i < 2; i++)
		if (st[2].ok && st[i].ok && pp_space_cmp(&st[i].gl, 0, &st[2].gl, 0) == 0)
			st[i].ok = 0;
	if (st[0].ok && st[1].ok && energy(&st[1].cost) < energy(&st[0].cost)) {
		start tmp = st[0];
		st[0] = st[1];
		st[1] = tmp;
	}
	if (!st[0].ok && st[1].ok) {
		start tmp = st[0];
		st[0] = st[1];
		st[1] = tmp;
	}
	if (st[2].ok) {
		/* the exhaustive optimum's chain first */
		start tmp = st[2];
		st[2] = st[1];
		st[1] = st[0];
		st[0] = tmp;
	}
	/* the starts that scored at the front, in order */
	for (i = 0; i < N_STARTS; i++) {
		int j;
		if (st[i].ok)
			continue;
		for (j = i + 1; j < N_STARTS && !st[j].ok; j++)
			;
		if (j < N_STARTS) {
			start tmp = st[i];
			st[i] = st[j];
			st[j] = tmp;
		}
	}
	for (i = 0; i < N_STARTS; i++)
		n += st[i].ok;
	return n;
}

int pp_search_mcmc(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r, pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	const pp_hw *hw = pp_costctx_hw(c);
	chain ch;
	pp_pcg32 rng;
	pp_global cur, nxt, cbest;
	pp_cost cur_cost, nxt_cost, cbest_cost, best_cost;
	uint8_t *cur_cfg = NULL, *nxt_cfg = NULL, *cbest_cfg = NULL;
	double t0 = pp_search_now(), e_cur, e_cbest;
	long long step, max_steps = o->max_steps, since_best = 0;
	int rc = 0, i, cap, tv, ci, n_starts, li;
	start starts[N_STARTS];
	size_t n_ops = (size_t)(g->n_ops ? g->n_ops : 1);

	memset(&ch, 0, sizeof(ch));
	memset(r, 0, sizeof(*r));
	memset(starts, 0, sizeof(starts));
	memset(&best_cost, 0, sizeof(best_cost));
	if ((rc = pp_search__check(c, o, err)) < 0)
		return rc;
	if (max_steps == 0 && o->time_limit_s == 0)
		max_steps = PP_MCMC_DEFAULT_STEPS;
	ch.c = c;
	ch.g = g;
	ch.o = o;
	pp_search__watch_init(&ch.w, o, t0);
	ch.k = o->top_k;
	if (pp_mul_int(g->n_layers, g->n_layers, &cap) < 0 || cap > INT_MAX - g->n_layers - 1) {
		rc = pp_error_set(err, PP_EINVALID, NULL, NULL,
				  "layers*layers = %d*%d pipeline layouts overflow", g->n_layers,
				  g->n_layers);
		goto done;
	}
	cap += g->n_layers + 1;
	ch.free_ops = malloc(sizeof(int) * n_ops);
	ch.layouts = malloc(sizeof(*ch.layouts) * (size_t)cap);
	/* the divisors of B, ascending: found up to sqrt(B), so a batch of 10^9 costs 31623 steps
	 * and an array of at most 1344 (the most divisors below 2^31) */
	ch.b_vals = malloc(sizeof(int) * (size_t)n_divisors(o->space.global_batch));
	ch.mega = malloc(n_ops);
	cur_cfg = malloc(n_ops);
	nxt_cfg = malloc(n_ops);
	cbest_cfg = malloc(n_ops);
	for (i = 0; i < N_STARTS; i++)
		starts[i].cfg = malloc(n_ops);
	if (!ch.free_ops || !ch.layouts || !ch.b_vals || !ch.mega || !cur_cfg || !nxt_cfg ||
	    !cbest_cfg || !starts[0].cfg || !starts[1].cfg || !starts[2].cfg)
		goto nomem;
	if ((rc = pp_cost_memo_new(&ch.memo, c, err)) < 0)
		goto done;
	ch.n_free = pp_space_free_ops(g, ch.free_ops);
	for (tv = 1; tv <= o->space.gpus && ch.n_t < 64; tv++)
		if (o->space.gpus % tv == 0 && g->heads % tv == 0 && (!g->kv_heads || g->kv_heads % tv == 0) &&
		    (o->space.allow_cross_node_tp || tv <= pp_hw_domain_block(hw)))
			ch.t_vals[ch.n_t++] = tv;
	ch.n_layouts = pp_space_layouts(g, o->space.gpus, o->space.uneven_stages, ch.layouts, cap);
	ch.n_b = divisors(o->space.global_batch, ch.b_vals);
	ch.sv[0][0] = PP_SCHED_1F1B, ch.sv[0][1] = 1;
	ch.sv[1][0] = PP_SCHED_GPIPE, ch.sv[1][1] = 1;
	ch.n_sv = 2;
	for (i = PP_SCHED_ZB_H1; i < PP_SCHED_COUNT; i++) /* zero-bubble and DualPipe: one chunk */
		ch.sv[ch.n_sv][0] = i, ch.sv[ch.n_sv][1] = 1, ch.n_sv++;
	for (i = 2; i <= g->n_layers && ch.n_sv < 128; i++)
		if (g->n_layers % i == 0) {
			ch.sv[ch.n_sv][0] = PP_SCHED_INTERLEAVED;
			ch.sv[ch.n_sv][1] = i;
			ch.n_sv++;
		}
	/* then the v that only uneven layouts take (a divisor of a middle stage's layers, as the
	 * exhaustive walk tries them: Llama 3 405B's 8-layer middle stages take v = 4, no divisor
	 * of its 126 layers) */
	for (li = 0; li < ch.n_layouts && ch.n_sv < 128; li++) {
		int vs[PP_SPACE_MAX_V], nv, k, j2;
		if (!ch.layouts[li][1] && !ch.layouts[li][2])
			continue;
		nv = pp_space_interleave_candidates(g->n_layers, ch.layouts[li][0], ch.layouts[li][1],
						    ch.layouts[li][2], vs);
		for (k = 0; k < nv && ch.n_sv < 128; k++) {
			for (j2 = 2; j2 < ch.n_sv && ch.sv[j2][1] != vs[k]; j2++)
				;
			if (j2 == ch.n_sv) {
				ch.sv[ch.n_sv][0] = PP_SCHED_INTERLEAVED;
				ch.sv[ch.n_sv][1] = vs[k];
				ch.n_sv++;
			}
		}
	}
	/* room for one plan now; the hand-over below makes room for what was kept */
	if ((rc = pp_search__result_init(r, PP_SEARCH_MCMC, g->n_ops, 1, err)) < 0)
		goto done;
	r->seed = o->seed;

	if (o->fixed && (rc = pp_space_valid(c, &o->space, o->fixed, err)) < 0)
		goto done;
	n_starts = start_states(&ch, starts);
	if (ch.w.why) {
		/* stopped while finding the starts: they are the best so far */
		r->stopped = ch.w.why;
		for (i = 0; i < n_starts; i++)
			if (offer(&ch, &starts[i].gl, starts[i].cfg, &starts[i].cost) < 0)
				goto nomem;
	}
	if (n_starts == 0 && !r->stopped) {
		rc = pp_search__infeasible(err, PP_SEARCH_MCMC, ch.min_peak_gib, ch.capacity_gib);
		goto done;
	}
	pp_pcg32_seed(&rng, o->seed, 0x5eed);
	step = 0;
	/* one chain per starting point, each with its share of the steps or of the time */
	for (ci = 0; ci < n_starts && !r->stopped; ci++) {
		long long end_step = max_steps ? max_steps * (ci + 1) / n_starts : 0;
		double deadline = o->time_limit_s > 0 ? o->time_limit_s * (ci + 1) / n_starts : 0;
		cur = starts[ci].gl;
		cur_cost = starts[ci].cost;
		memcpy(cur_cfg, starts[ci].cfg, n_ops);
		cbest = cur;
		cbest_cost = cur_cost;
		memcpy(cbest_cfg, cur_cfg, n_ops);
		e_cur = energy(&cur_cost);
		e_cbest = e_cur;
		since_best = 0;
		if (offer(&ch, &cur, cur_cfg, &cur_cost) < 0)
			goto nomem;
		if (cur_cost.feasible && (!best_cost.feasible || cur_cost.iteration_s < best_cost.iteration_s))
			best_cost = cur_cost;
		if (o->target_s > 0 && r->target_step < 0 && best_cost.feasible && best_cost.iteration_s <= o->target_s) {
			r->target_step = step;
			r->target_seconds = pp_search_now() - t0;
		}
		while (end_step == 0 || step < end_step) {
			double e_nxt;
			step++;
			if (o->stop && *o->stop) {
				r->stopped = PP_SEARCH_STOP_FLAG;
				break;
			}
			if ((step & 63) == 0 && (deadline > 0 || o->progress)) {
				double el = pp_search_now() - t0;
				if (deadline > 0 && el >= deadline) {
					if (ci == n_starts - 1)
						r->stopped = PP_SEARCH_STOP_TIME;
					break;
				}
				if (o->progress && (step & 4095) == 0)
					o->progress(o->progress_arg, (double)step, el,
						    best_cost.feasible ? best_cost.iteration_s : 0);
			}
			r->states = (double)step;
			if (since_best >= MCMC_RESTART) {
				/* jump back to this chain's best state */
				cur = cbest;
				cur_cost = cbest_cost;
				copy_free(&ch, cur_cfg, cbest_cfg);
				e_cur = e_cbest;
				since_best = 0;
			}
			since_best++;
			copy_free(&ch, nxt_cfg, cur_cfg);
			if (!propose(&ch, &rng, &cur, &nxt, nxt_cfg))
				continue;
			if (score(&ch, &nxt, nxt_cfg, &nxt_cost) < 0)
				continue;
			e_nxt = energy(&nxt_cost);
			if (e_nxt > e_cur) {
				double delta = (e_nxt - e_cur) / e_cur;
				if (pp_pcg32_double(&rng) >= exp(-o->beta * delta))
					continue;
			}
			cur = nxt;
			cur_cost = nxt_cost;
			copy_free(&ch, cur_cfg, nxt_cfg);
			e_cur = e_nxt;
			if (offer(&ch, &cur, cur_cfg, &cur_cost) < 0)
				goto nomem;
			if (e_cur < e_cbest || (cur_cost.feasible && !cbest_cost.feasible)) {
				cbest = cur;
				cbest_cost = cur_cost;
				copy_free(&ch, cbest_cfg, cur_cfg);
				e_cbest = e_cur;
				since_best = 0;
			}
			if (cur_cost.feasible && (!best_cost.feasible || cur_cost.iteration_s < best_cost.iteration_s)) {
				best_cost = cur_cost;
				if (o->target_s > 0 && r->target_step < 0 && best_cost.iteration_s <= o->target_s) {
					r->target_step = step;
					r->target_seconds = pp_search_now() - t0;
				}
			}
		}
	}
	r->seconds = pp_search_now() - t0;
	r->optimal = 0;
	if (ch.n_top == 0 && r->stopped) {
		rc = pp_search__stopped_empty(err, r->stopped, o->time_limit_s);
		goto done;
	}
	if (ch.n_top == 0) {
		rc = pp_search__infeasible(err, PP_SEARCH_MCMC, ch.min_peak_gib, ch.capacity_gib);
		goto done;
	}
	/* hand the kept plans over, every layer given its class's configs */
	{
		pp_candidate *np = realloc(r->plans, sizeof(*np) * (size_t)ch.n_top);
		if (!np)
			goto nomem;
		r->plans = np;
	}
	for (i = 0; i < ch.n_top; i++) {
		r->plans[i] = ch.top[i];
		pp_space_spread_configs(g, r->plans[i].cfg);
		ch.top[i].cfg = NULL;
		r->n = i + 1;
	}
	rc = 0;
	goto done;
nomem:
	rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
done:
	if (rc < 0)
		pp_search_result_release(r);
	free_chain(&ch);
	free(cur_cfg);
	free(nxt_cfg);
	free(cbest_cfg);
	for (i = 0; i < N_STARTS; i++)
		free(starts[i].cfg);
	return rc;
}
