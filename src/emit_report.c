/*
 * emit_report.c - a plain-text summary a person reads in ten seconds: the plan, what it is
 * predicted to do, memory against capacity, the time breakdown as a bar of characters, and the
 * runner-up plans (opts->others, plans for the same model) with how much slower or faster each
 * is.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emit_int.h"

#define BAR 50

/* One character cell per 1/BAR of the whole, by cumulative rounding so that the cells add up. */
static void stacked_bar(pp_sbuf *b, const double *v, const char *marks, int n)
{
	double total = 0, acc = 0;
	int i, drawn = 0;
	for (i = 0; i < n; i++)
		total += v[i] > 0 ? v[i] : 0;
	pp_sb_printf(b, "  [");
	for (i = 0; i < n && total > 0; i++) {
		int upto;
		acc += v[i] > 0 ? v[i] : 0;
		upto = (int)floor(acc / total * BAR + 0.5);
		for (; drawn < upto; drawn++)
			pp_sb_printf(b, "%c", marks[i]);
	}
	for (; drawn < BAR; drawn++)
		pp_sb_printf(b, " ");
	pp_sb_printf(b, "]\n");
}

static void plan_line(pp_sbuf *b, const pp_plan *pl)
{
	const pp_global *gl = &pl->global;
	pp_sb_printf(b, "t %d x p %d x d %d, micro-batch %d, %s", gl->t, gl->p, gl->d,
		     gl->micro_batch, pp_schedule_name(gl->schedule));
	if (gl->virtual_stages > 1)
		pp_sb_printf(b, " v %d", gl->virtual_stages);
	pp_sb_printf(b, ", recompute %s%s%s", pp_recompute_name(gl->recompute),
		     gl->sequence_parallel ? ", SP" : "", gl->distributed_optimizer ? ", dist-opt" : "");
}

int pp_emit_report(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_predicted *pr = &plan->predicted;
	pp_sbuf b = PP_SBUF_INIT;
	int nnodes, per_node, i, m = pp_global_microbatches(gl);
	char model[sizeof(plan->model)], hw[sizeof(plan->hw)], other[sizeof(plan->model)];

	*out = NULL;
	for (i = 0; opts && i < opts->n_others; i++)
		if (strcmp(opts->others[i]->model, plan->model))
			return pp_error_set(err, PP_EINVALID, NULL, "model",
					    "report: runner-up %d is a plan for model \"%.64s\", not "
					    "\"%.64s\"",
					    i + 1, pp_emit_safe_name(other, sizeof(other),
								     opts->others[i]->model),
					    pp_emit_safe_name(model, sizeof(model), plan->model));
	pp_emit_nodes(plan, &nnodes, &per_node);
	pp_sb_printf(&b, "parplan plan: %s on %s, %d GPUs (%d node%s of %d)\n",
		     pp_emit_safe_name(model, sizeof(model), plan->model),
		     pp_emit_safe_name(hw, sizeof(hw), plan->hw), plan->gpus, nnodes,
		     nnodes == 1 ? "" : "s", per_node);
	pp_sb_printf(&b, "  ");
	plan_line(&b, plan);
	pp_sb_printf(&b, "\n  global batch %d = %d micro-batches x %d x d %d; %lld layers on %d "
			 "stage%s",
		     gl->global_batch, m, gl->micro_batch, gl->d, (long long)plan->shape.layers,
		     gl->p, gl->p == 1 ? "" : "s");
	if (gl->first_stage_layers || gl->last_stage_layers)
		pp_sb_printf(&b, " (first %d, last %d)", gl->first_stage_layers, gl->last_stage_layers);
	pp_sb_printf(&b, "\n\n");

	if (!pr->valid) {
		pp_sb_printf(&b, "predicted: none in this plan (score it with parplan cost)\n");
	} else {
		static const char marks[] = "CTPBDO";
		static const char *const names[] = {"compute", "tp comm", "pp comm", "bubble",
						    "dp comm", "optimizer"};
		double parts[6];
		double frac = pr->capacity_gib > 0 ? pr->peak_gib / pr->capacity_gib : 0;
		int k, fill = (int)floor(fmin(frac, 1.0) * 40 + 0.5);
		parts[0] = pr->compute_s, parts[1] = pr->tp_comm_s, parts[2] = pr->pp_comm_s;
		parts[3] = pr->bubble_s, parts[4] = pr->dp_comm_s, parts[5] = pr->optimizer_s;
		pp_sb_printf(&b, "predicted%s\n", pr->feasible ? "" : " (INFEASIBLE: does not fit)");
		pp_sb_printf(&b, "  iteration     %.4g s\n", pr->iteration_s);
		pp_sb_printf(&b, "  tokens/s      %.6g\n", pr->tokens_per_s);
		pp_sb_printf(&b, "  TFLOP/s/GPU   %.4g model, %.4g hardware\n", pr->model_tflops_per_gpu,
			     pr->hardware_tflops_per_gpu);
		pp_sb_printf(&b, "  MFU / HFU     %.1f%% / %.1f%%\n", 100 * pr->mfu, 100 * pr->hfu);
		pp_sb_printf(&b, "  memory/GPU    %.1f of %.1f GiB  [", pr->peak_gib, pr->capacity_gib);
		for (k = 0; k < 40; k++)
			pp_sb_printf(&b, "%c", k < fill ? '#' : '.');
		pp_sb_printf(&b, "] %.0f%%\n", 100 * frac);
		pp_sb_printf(&b, "                weights %.2f, grads %.2f, optimizer %.2f, activations "
				 "%.2f GiB\n\n",
			     pr->weights_gib, pr->grads_gib, pr->optimizer_gib, pr->activations_gib);
		pp_sb_printf(&b, "time breakdown (%.4g s per iteration)\n", pr->iteration_s);
		stacked_bar(&b, parts, marks, 6);
		for (k = 0; k < 6; k++)
			pp_sb_printf(&b, "  %c %-10s %9.4g s  %5.1f%%\n", marks[k], names[k], parts[k],
				     pr->iteration_s > 0 ? 100 * parts[k] / pr->iteration_s : 0.0);
	}

	pp_sb_printf(&b, "\nrunner-up plans\n");
	if (!opts || opts->n_others == 0)
		pp_sb_printf(&b, "  none given (parplan emit --format report --compare PLAN ...)\n");
	for (i = 0; opts && i < opts->n_others; i++) {
		const pp_plan *o = opts->others[i];
		pp_sb_printf(&b, "  %d. ", i + 2);
		plan_line(&b, o);
		if (o->predicted.valid && pr->valid && pr->iteration_s > 0) {
			double rel = 100 * (o->predicted.iteration_s / pr->iteration_s - 1);
			if (fabs(rel) < 0.05) /* prints as 0.0% */
				pp_sb_printf(&b, ": %.4g s, as fast\n", o->predicted.iteration_s);
			else
				pp_sb_printf(&b, ": %.4g s, %.1f%% %s\n", o->predicted.iteration_s,
					     fabs(rel), rel > 0 ? "slower" : "faster");
		} else
			pp_sb_printf(&b, ": not predicted\n");
	}
	if (plan->search.valid)
		pp_sb_printf(&b, "\nsearch: %s, %.6g states in %.3g s%s, seed %llu\n",
			     plan->search.method, plan->search.states, plan->search.seconds,
			     plan->search.optimal ? ", optimal" : "",
			     (unsigned long long)plan->search.seed);
	return pp_sb_finish(&b, out, err);
}
