/* check_schedule.c - the schedule simulator against the published bubble and memory formulas,
 * the cost model's closed forms against the simulator. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/cost.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/schedule.h"

#define REL(a, b) (fabs((a) - (b)) / fmax(fabs(b), 1e-300))
#define MAXS 512

/* chunk times: every chunk the same, or (uneven) rank 0 and the last rank scaled */
typedef struct times {
	double f[MAXS], b[MAXS], w[MAXS], fx[MAXS], bx[MAXS];
	pp_sched_times t;
} times;

static void fill(times *x, int S, double f, double b, double w, double fx, double bx)
{
	int i;
	for (i = 0; i < S; i++)
		x->f[i] = f, x->b[i] = b, x->w[i] = w, x->fx[i] = fx, x->bx[i] = bx;
	x->t.f = x->f, x->t.b = x->b, x->t.w = x->w, x->t.fx = x->fx, x->t.bx = x->bx;
}

static pp_sched_run sim(pp_schedule s, int p, int v, int m, const times *x)
{
	pp_sched_run r;
	pp_error err = PP_ERROR_INIT;
	ck_assert_msg(pp_sched_simulate(s, p, v, m, &x->t, &r, &err) == 0, "%s p=%d m=%d: %s",
		      pp_schedule_name(s), p, m, err.msg);
	return r;
}

static double bubble(pp_schedule s, int p, int m, const times *x)
{
	pp_sched_run r = sim(s, p, 1, m, x);
	double bub = r.makespan_s - r.busy_max_s;
	pp_sched_run_release(&r);
	return bub;
}

/* a few (F, B, W) per chunk: B the input gradient, W <= B as in a transformer layer (attention's
 * backward has no weight gradient) */
static const double cases[][3] = {{1, 1, 1},   {1, 1, 0.5}, {1, 2, 1},   {2, 1, 1},
				  {1, 0.5, 0.5}, {1.5, 1, 1}, {1, 1.5, 1}, {1, 1, 0.8},
				  {1, 2, 0.5}, {0.7, 1, 0.9}};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

START_TEST(test_published_bubbles)
{
	/* deepseek-ai/DualPipe README, "Pipeline Bubbles and Memory Usage": B there is the full
	 * backward (input + weight gradient) */
	static const int ps[] = {2, 4, 6, 8, 16};
	int pi, k, mi;
	times x;
	for (pi = 0; pi < 5; pi++)
		for (mi = 0; mi < 3; mi++)
			for (k = 0; k < NCASES; k++) {
				int p = ps[pi], m = 2 * p + 2 * mi * p + 2 * mi;
				double F = cases[k][0], Bi = cases[k][1], W = cases[k][2], B = Bi + W;
				fill(&x, 2 * p, F, Bi, W, 0, 0);
				/* 1F1B: (PP-1)(F+B), any times */
				ck_assert_double_le(fabs(bubble(PP_SCHED_1F1B, p, m, &x) - (p - 1) * (F + B)), 1e-9);
				ck_assert_double_le(fabs(bubble(PP_SCHED_GPIPE, p, m, &x) - (p - 1) * (F + B)), 1e-9);
				/* ZB1P: (PP-1)(F+B-2W) while W is no longer than F and the input gradient
				 * (else the bubble is (PP-1) max(F, B - W)) */
				if (W <= F && W <= Bi)
					ck_assert_double_le(fabs(bubble(PP_SCHED_ZB_H1, p, m, &x) -
								 (p - 1) * (F + B - 2 * W)), 1e-9);
				ck_assert_double_le(fabs(bubble(PP_SCHED_ZB_H1, p, m, &x) -
							 (p - 1) * fmax(F + B - 2 * W, fmax(F, Bi))), 1e-9);
				/* DualPipe / DualPipeV: (PP/2-1)(F&B+B-3W), exact when F = the input
				 * gradient and m > 2p, with F&B = F + B; once F&B overlaps (communication parts
				 * set) the simulated PyTorch / DeepSeek order drifts from the formula, by rank
				 * and both ways, and only the bound below is checked */
				if (F == Bi && m > 2 * p) {
					static const double ov[][2] = {{0, 0}, {0.3, 0.4}, {0.2, 0.3}};
					int o;
					for (o = 0; o < 3; o++) {
						double fx = ov[o][0] * F, bx = ov[o][1] * B;
						double FB = fmax(F - fx + B - bx, fx + bx);
						fill(&x, 2 * p, F, Bi, W, fx, bx);
						if (p % 2 == 0 && o == 0)
							ck_assert_msg(fabs(bubble(PP_SCHED_DUALPIPE, p, m, &x) -
									   (p / 2 - 1) * (FB + B - 3 * W)) < 1e-9,
								      "dualpipe p=%d m=%d F=%g B=%g W=%g F&B=%g: %g", p, m,
								      F, B, W, FB, bubble(PP_SCHED_DUALPIPE, p, m, &x));
						/* DualPipeV: PP = 2p stages on p ranks */
						if (o == 0)
							ck_assert_msg(fabs(bubble(PP_SCHED_DUALPIPEV, p, m, &x) -
									   (p - 1) * (FB + B - 3 * W)) < 1e-9,
								      "dualpipev p=%d m=%d F=%g B=%g W=%g: %g", p, m, F,
								      B, W, bubble(PP_SCHED_DUALPIPEV, p, m, &x));
						/* overlapping never adds bubble beyond F&B's own share */
						ck_assert_double_le(bubble(PP_SCHED_DUALPIPEV, p, m, &x),
								    (p - 1) * (FB + B - 2 * W) + 1e-9);
					}
				}
			}
}
END_TEST

START_TEST(test_bubble_rates)
{
	/* sail-sg/zero-bubble-pipeline-parallelism README, T_F = T_B = T_W: bubble rate (p-1)/m
	 * for 1F1B, (p-1)/(3m) for ZB1P, 0 for ZB-V; rate = bubble / (m (T_F + T_B + T_W)) */
	int p, m;
	times x;
	for (p = 2; p <= 12; p += 2)
		for (m = 2 * p; m <= 6 * p; m += p) {
			pp_sched_run r;
			fill(&x, 2 * p, 1, 1, 1, 0, 0);
			ck_assert_double_le(fabs(bubble(PP_SCHED_1F1B, p, m, &x) / (3.0 * m) - (p - 1.0) / m), 1e-12);
			ck_assert_double_le(fabs(bubble(PP_SCHED_ZB_H1, p, m, &x) / (3.0 * m) - (p - 1.0) / (3 * m)),
					    1e-12);
			/* ZB-V with its V of 2p chunks: no idle time between a rank's first and last op
			 * (the parallelogram of sec. 3.1, back-to-back iterations) */
			r = sim(PP_SCHED_ZB_V, p, 1, m, &x);
			ck_assert_double_le(fabs(r.span_s - r.busy_max_s), 1e-9);
			ck_assert_double_le(fabs(r.busy_max_s - 6.0 * m), 1e-9);
			pp_sched_run_release(&r);
		}
}
END_TEST

START_TEST(test_memory_and_p2p_columns)
{
	/* DualPipe README: activations per device PP (1F1B, ZB1P), PP+1 (DualPipe, DualPipeV),
	 * in one stage's micro-batch units; parameters 2x for DualPipe (two stages per device).
	 * zero-bubble README: ZB-V holds 1x activations and sends 2x pipeline traffic. */
	int p, m;
	times x;
	for (p = 2; p <= 12; p += 2)
		for (m = 2 * p; m <= 4 * p; m += 2) {
			pp_sched_run a, z, zv, dp, dv;
			fill(&x, 2 * p, 1, 1, 1, 0, 0);
			a = sim(PP_SCHED_1F1B, p, 1, m, &x);
			z = sim(PP_SCHED_ZB_H1, p, 1, m, &x);
			zv = sim(PP_SCHED_ZB_V, p, 1, m, &x);
			dp = sim(PP_SCHED_DUALPIPE, p, 1, m, &x);
			dv = sim(PP_SCHED_DUALPIPEV, p, 1, m, &x);
			ck_assert_int_eq(a.peak_act, p);
			ck_assert_int_eq(z.peak_act, p);
			ck_assert_int_eq(dp.peak_act, p + 1);
			ck_assert_int_eq(dv.peak_act, 2 * p + 1); /* PP = 2p half-size stages */
			ck_assert_int_eq(zv.peak_act, 2 * p);     /* 2p half chunks = 1x */
			/* the cost model's in-flight counts, in whole-rank micro-batches */
			ck_assert_double_eq(pp_sched_in_flight(PP_SCHED_ZB_H1, p, m), z.peak_act);
			ck_assert_double_eq(pp_sched_in_flight(PP_SCHED_DUALPIPE, p, m), dp.peak_act);
			ck_assert_double_eq(2 * pp_sched_in_flight(PP_SCHED_DUALPIPEV, p, m), dv.peak_act);
			ck_assert_double_eq(2 * pp_sched_in_flight(PP_SCHED_ZB_V, p, m), zv.peak_act);
			ck_assert_int_eq(pp_sched_chunks_per_rank(PP_SCHED_DUALPIPE, 1), 2);
			/* pipeline communication: ZB-V 2x, the others 1x */
			ck_assert_double_le(fabs(zv.p2p_per_rank - 2 * a.p2p_per_rank), 1e-12);
			ck_assert_double_le(fabs(dv.p2p_per_rank - 2 * a.p2p_per_rank), 1e-12);
			ck_assert_double_le(fabs(dp.p2p_per_rank - a.p2p_per_rank), 1e-12);
			ck_assert_double_le(fabs(z.p2p_per_rank - a.p2p_per_rank), 1e-12);
			pp_sched_run_release(&a);
			pp_sched_run_release(&z);
			pp_sched_run_release(&zv);
			pp_sched_run_release(&dp);
			pp_sched_run_release(&dv);
		}
}
END_TEST

START_TEST(test_closed_forms_match_simulation)
{
	/* the cost model's closed forms (pp_sched_pipeline_s) against the simulated makespan for
	 * every schedule: exact for GPipe, 1F1B and ZB-H1; ZB-V's and DualPipe(V)'s fill and
	 * drain are not one term for every F, B, W: above the simulation and within 8%;
	 * interleaved through pp_cf_pipeline_s */
	static const pp_schedule all[] = {PP_SCHED_GPIPE, PP_SCHED_1F1B, PP_SCHED_ZB_H1,
					  PP_SCHED_ZB_V, PP_SCHED_DUALPIPE, PP_SCHED_DUALPIPEV};
	double worst[6] = {0};
	int si, p, k, mi;
	times x;
	for (si = 0; si < 6; si++)
		for (p = 2; p <= 16; p += 2)
			for (mi = 0; mi < 3; mi++)
				for (k = 0; k < NCASES; k++) {
					pp_schedule s = all[si];
					int m = 2 * p * (mi + 1) + 2 * mi, c = pp_sched_chunks_per_rank(s, 1);
					/* rank times; a chunk is 1/2 of them on a V, DualPipe's chunk a stage */
					double f = cases[k][0], b = cases[k][1], w = cases[k][2], k2;
					double fx = 0.3 * f, bx = 0.2 * (b + w), cf, busy, pipe, err;
					pp_sched_run r;
					k2 = s == PP_SCHED_DUALPIPE ? 1 : c;
					cf = 1 / k2;
					fill(&x, 2 * p, f * cf, b * cf, w * cf, fx * cf, bx * cf);
					r = sim(s, p, 1, m, &x);
					pipe = pp_sched_pipeline_s(s, p, m, f, b, w, fx, bx, &busy);
					err = REL(pipe, r.makespan_s);
					if (err > worst[si])
						worst[si] = err;
					ck_assert_double_le(REL(busy, r.busy_max_s), 1e-12);
					/* above the simulation, never below it by more than rounding */
					ck_assert_double_ge(pipe, r.makespan_s * (1 - 1e-12));
					ck_assert_msg(err < (s >= PP_SCHED_ZB_V ? 0.08 : 1e-12),
						      "%s p=%d m=%d f=%g b=%g w=%g: closed %g, simulated %g",
						      pp_schedule_name(s), p, m, f, b, w, pipe, r.makespan_s);
					pp_sched_run_release(&r);
				}
	for (si = 0; si < 6; si++)
		printf("closed form vs simulation, %s: worst %.3g%%\n", pp_schedule_name(all[si]),
		       100 * worst[si]);
	/* interleaved, equal stages: (m + (p-1)/v)(t_f + t_b) */
	for (p = 2; p <= 8; p += 2) {
		int v;
		for (v = 2; v <= 4; v++) {
			pp_sched_run r;
			fill(&x, p * v, 1.0 / v, 2.0 / v, 0, 0, 0);
			r = sim(PP_SCHED_INTERLEAVED, p, v, 4 * p, &x);
			ck_assert_double_le(REL(r.makespan_s, pp_cf_pipeline_s(4 * p, p, v, 1, 2)), 1e-12);
			pp_sched_run_release(&r);
		}
	}
}
END_TEST

START_TEST(test_uneven_stages)
{
	/* the cost model's uneven form for GPipe/1F1B, m*Tmax + (sum T - Tmax), and ZB-H1's,
	 * m*Tmax + sum over the other stages of (F + max(B - W, 0)), against the simulation with
	 * first and last stages lighter or heavier than the middle ones */
	static const double scale[][2] = {{0.5, 0.5}, {1.5, 0.75}, {0.75, 1.25}, {1, 0.4}};
	double worst[3] = {0};
	int p, k, si, mi;
	times x;
	for (p = 2; p <= 8; p++)
		for (k = 0; k < 4; k++)
			for (mi = 1; mi <= 3; mi++)
				for (si = 0; si < 3; si++) {
					pp_schedule s = si == 0 ? PP_SCHED_GPIPE : si == 1 ? PP_SCHED_1F1B : PP_SCHED_ZB_H1;
					int m = 2 * p * mi + 1, i, imax = 0;
					double T[MAXS], Tsum = 0, Z = 0, closed;
					pp_sched_run r;
					fill(&x, p, 1, 1.2, 0.8, 0, 0);
					for (i = 0; i < 3; i++) {
						x.f[0] *= i == 0 ? scale[k][0] : 1;
						x.b[0] *= i == 1 ? scale[k][0] : 1;
						x.w[0] *= i == 2 ? scale[k][0] : 1;
					}
					x.f[p - 1] *= scale[k][1], x.b[p - 1] *= scale[k][1], x.w[p - 1] *= scale[k][1];
					for (i = 0; i < p; i++) {
						T[i] = x.f[i] + x.b[i] + x.w[i];
						Tsum += T[i];
						if (T[i] > T[imax])
							imax = i;
					}
					for (i = 0; i < p; i++)
						if (i != imax)
							Z += fmax(x.f[i] + x.b[i] - x.w[i], fmax(x.f[i], x.b[i]));
					closed = m * T[imax] + (s == PP_SCHED_ZB_H1 ? Z : Tsum - T[imax]);
					r = sim(s, p, 1, m, &x);
					/* uneven stages: the closed form never promises less than the
					 * simulation and stays within 15% of it (m >= 2p): a heavy first stage hides
					 * part of the others' fill, which the sum counts whole */
					if (REL(closed, r.makespan_s) > worst[si])
						worst[si] = REL(closed, r.makespan_s);
					ck_assert_msg(closed >= r.makespan_s - 1e-9 && REL(closed, r.makespan_s) < 0.15,
						      "%s p=%d m=%d case %d: closed %g simulated %g",
						      pp_schedule_name(s), p, m, k, closed, r.makespan_s);
					pp_sched_run_release(&r);
				}
	for (si = 0; si < 3; si++)
		printf("uneven stages, closed form over simulation: worst +%.3g%% (%s)\n", 100 * worst[si],
		       si == 0 ? "gpipe" : si == 1 ? "1f1b" : "zb-h1");
}
END_TEST

START_TEST(test_validity_rules)
{
	pp_error err = PP_ERROR_INIT;
	ck_assert_int_eq(pp_sched_check(PP_SCHED_DUALPIPE, 3, 1, 12, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "even number of stages"));
	ck_assert_int_eq(pp_sched_check(PP_SCHED_DUALPIPE, 4, 1, 6, &err), PP_EINVALID);
	ck_assert_int_eq(pp_sched_check(PP_SCHED_DUALPIPE, 4, 1, 9, &err), PP_EINVALID);
	ck_assert_int_eq(pp_sched_check(PP_SCHED_DUALPIPE, 4, 1, 8, &err), 0);
	ck_assert_int_eq(pp_sched_check(PP_SCHED_DUALPIPEV, 4, 1, 7, &err), PP_EINVALID);
	ck_assert_int_eq(pp_sched_check(PP_SCHED_DUALPIPEV, 4, 1, 8, &err), 0);
	ck_assert_int_eq(pp_sched_check(PP_SCHED_ZB_V, 4, 1, 3, &err), 0); /* padded, as PyTorch */
	ck_assert_int_eq(pp_sched_check(PP_SCHED_INTERLEAVED, 4, 2, 6, &err), PP_EINVALID);
	ck_assert_int_eq(pp_sched_check(PP_SCHED_ZB_H1, 4, 2, 8, &err), PP_EINVALID);
	/* every schedule runs to the end (no deadlock) down to its fewest micro-batches */
	{
		static const pp_schedule all[] = {PP_SCHED_GPIPE, PP_SCHED_1F1B, PP_SCHED_ZB_H1,
						  PP_SCHED_ZB_V, PP_SCHED_DUALPIPE, PP_SCHED_DUALPIPEV};
		int si, p, m;
		times x;
		for (si = 0; si < 6; si++)
			for (p = 2; p <= 8; p += 2)
				for (m = 1; m <= 3 * p; m++) {
					pp_sched_run r;
					int n = 0, i, c = pp_sched_chunks_per_rank(all[si], 1);
					if (pp_sched_check(all[si], p, 1, m, NULL) < 0)
						continue;
					fill(&x, 2 * p, 1, 1, 0.5, 0, 0);
					r = sim(all[si], p, 1, m, &x);
					/* every micro-batch's forward ran once per chunk on its path */
					for (i = 0; i < r.n; i++)
						n += r.ops[i].kind == PP_SCHED_OP_F || r.ops[i].kind == PP_SCHED_OP_FB;
					ck_assert_int_eq(n, m * pp_sched_chunks(all[si], p, 1));
					(void)c;
					pp_sched_run_release(&r);
				}
	}
}
END_TEST

START_TEST(test_cost_model_schedules)
{
	/* the cost model on 8 identical layers (no embedding or head), p = 4, 8 micro-batches: its
	 * pipeline time against the simulation of its own stage times, its memory against the
	 * schedules' in-flight counts, its p2p and parameters against 1F1B's */
	static const pp_schedule all[] = {PP_SCHED_1F1B, PP_SCHED_GPIPE, PP_SCHED_ZB_H1, PP_SCHED_ZB_V,
					  PP_SCHED_DUALPIPE, PP_SCHED_DUALPIPEV};
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	pp_costctx *c = NULL;
	pp_error err = PP_ERROR_INIT;
	pp_cost base, x;
	int k, p = 4, m = 8;
	ck_assert_msg(pp_graph_load("data/layers-only.json", &g, &err) == 0, "%s", err.msg);
	ck_assert_msg(pp_hw_load("../hwprofiles/dgx-a100-80g.json", &hw, &err) == 0, "%s", err.msg);
	ck_assert_msg(pp_costctx_new(&c, g, hw, &err) == 0, "%s", err.msg);
	for (k = 0; k < 6; k++) {
		pp_global gl = PP_GLOBAL_INIT;
		pp_sched_run r;
		times tm;
		double pipe, per_pp, f, b, w, kc;
		gl.t = 2, gl.p = p, gl.d = 2, gl.micro_batch = 1, gl.global_batch = 2 * m;
		gl.schedule = all[k];
		ck_assert_msg(pp_global_validate(g, &gl, 0, &err) == 0, "%s: %s", pp_schedule_name(all[k]),
			      err.msg);
		ck_assert_int_eq(pp_cost_eval(c, &gl, NULL, &x), 0);
		if (k == 0)
			base = x;
		pipe = x.compute_s + x.tp_comm_s + x.pp_comm_s + x.bubble_s;
		/* the simulation of the same stage times (point-to-point split between F and B) */
		per_pp = x.pp_comm_s / m;
		f = x.stage_f_s + per_pp / 2, b = x.stage_b_s + per_pp / 2, w = x.stage_w_s;
		kc = all[k] == PP_SCHED_ZB_V || all[k] == PP_SCHED_DUALPIPEV ? 2 : 1;
		fill(&tm, 2 * p, f / kc, b / kc, w / kc, 0, 0);
		r = sim(all[k], p, 1, m, &tm);
		ck_assert_msg(pipe >= r.makespan_s * (1 - 1e-9) &&
				      REL(pipe, r.makespan_s) < (all[k] >= PP_SCHED_ZB_V ? 0.08 : 1e-9),
			      "%s: cost model %g s, simulated %g s", pp_schedule_name(all[k]), pipe,
			      r.makespan_s);
		/* activations: the schedule's micro-batches in flight of one stage's 2 layers */
		ck_assert_double_le(REL(x.activations_gib * 1073741824.0,
					2 * x.layer_act_bytes *
						(all[k] == PP_SCHED_1F1B ? p : all[k] == PP_SCHED_GPIPE ? m
						 : pp_sched_in_flight(all[k], p, m))),
				    1e-12);
		ck_assert_int_eq(r.peak_act, (int)(kc * (all[k] == PP_SCHED_GPIPE ? m
						   : all[k] == PP_SCHED_1F1B ? p : pp_sched_in_flight(all[k], p, m))));
		/* parameters: 2x with DualPipe's two stages per rank; p2p: 2x on a V */
		ck_assert_double_le(REL(x.stage_params, (all[k] == PP_SCHED_DUALPIPE ? 2 : 1) * base.stage_params),
				    1e-12);
		ck_assert_double_le(REL(x.pp_comm_s, kc * base.pp_comm_s), 1e-12);
		pp_sched_run_release(&r);
	}
	pp_costctx_free(c);
	pp_graph_free(g);
	pp_hw_free(hw);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_published_bubbles);
	tcase_add_test(tc, test_bubble_rates);
	tcase_add_test(tc, test_memory_and_p2p_columns);
	tcase_add_test(tc, test_closed_forms_match_simulation);
	tcase_add_test(tc, test_uneven_stages);
	tcase_add_test(tc, test_validity_rules);
	tcase_add_test(tc, test_cost_model_schedules);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
