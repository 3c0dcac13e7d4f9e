/*
 * emit_svg.c - an SVG timeline of one iteration: one row per pipeline rank, a box per forward,
 * backward and (zero-bubble schedules) weight-gradient op as the schedule simulator runs them
 * (schedule.c), the bubble left as grey background, the communication share of each box shaded,
 * the data-parallel gradient reduction and the optimizer step after the pipeline flush, an axis
 * in milliseconds, a legend naming every colour, and a stacked bar of the predicted breakdown.
 *
 * Many micro-batches would make a striped blur: past 2p + 4 of them the picture simulates that
 * many (the warm-up, a few steady-state micro-batches, the cool-down, all at full resolution)
 * and marks the steady middle it leaves out with a break, the axis jumping by the elided time
 * so that it ends at the one predicted iteration time.
 *
 * Box times come from the plan's prediction: a rank is busy compute_s + tp_comm_s + pp_comm_s
 * per iteration, m micro-batches of forward + backward split 1:2 (1:3 with full recompute,
 * whose backward re-runs the forward), the backward split evenly into input and weight
 * gradient (a linear layer's two backward GEMMs have equal FLOPs); a chunk takes its share of
 * its rank's time.  The drawn pipeline is stretched to the predicted pipeline time (iteration
 * minus DP sync and optimizer), so the picture states one iteration time.  Every op box is a
 * <rect class="fwd"|"bwd"|"wgt"> carrying data-stage, data-mb, data-chunk and data-pos (the
 * chunk's place along the micro-batch's path), data-overlap on DualPipe's F&B halves, so that
 * the picture can be checked mechanically; the timeline group carries data-m (micro-batches
 * drawn) and data-chunks (chunks along a path).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit_int.h"
#include "parplan/schedule.h"

#define LEFT 90.0
#define WIDTH 1000.0
#define ROW 22.0
#define GAP 4.0
#define TOP 70.0
#define BREAK 44.0 /* px of the elision mark */
#define CHAR_W 6.2 /* px per character of the 11 px legend font, for layout */
#define MANY_RANKS 16 /* past this many ranks the middle ones are left out */
#define EDGE_RANKS 4

/* 1, 2 or 5 times a power of ten, about a tenth of @span */
static double tick_step(double span)
{
	double raw = span / 10, p = pow(10, floor(log10(raw))), f = raw / p;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* micro-batches to draw: all, or 2p + 4 (interleaved: 2p) as the schedule's rules allow */
static int drawn_microbatches(const pp_global *gl, int m)
{
	int p = gl->p, want = p > MANY_RANKS ? p + 6 : 2 * p + 4;
	if (gl->schedule == PP_SCHED_INTERLEAVED)
		want = p > MANY_RANKS ? p : 2 * p; /* a multiple of p; v chunks make many boxes */
	if (gl->schedule == PP_SCHED_DUALPIPE || gl->schedule == PP_SCHED_DUALPIPEV)
		want = want > 2 * p ? want : 2 * p; /* their least */
	if (gl->schedule == PP_SCHED_DUALPIPE)
		want += want % 2;
	return m > want + 2 ? want : m;
}

/* the row a rank is drawn on, or -1: past MANY_RANKS ranks only the first and last EDGE_RANKS */
static int row_of(int p, int r)
{
	if (p <= MANY_RANKS)
		return r;
	return r < EDGE_RANKS ? r : r >= p - EDGE_RANKS ? r - (p - 2 * EDGE_RANKS) + 1 : -1;
}

typedef struct view {
	double scale, t_cut, elided_s;
	int elide;
} view;

static double xpos(const view *v, double t)
{
	return LEFT + t * v->scale + (v->elide && t >= v->t_cut - 1e-15 ? BREAK : 0);
}

int pp_emit_svg(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	static const char *const part_names[] = {"compute", "TP communication", "PP communication",
						 "bubble", "DP gradient sync", "optimizer"};
	static const char *const part_colors[] = {"#4e79a7", "#e15759", "#76b7b2",
						  "#d9d9d9", "#59a14f", "#b07aa1"};
	const pp_global *gl = &plan->global;
	const pp_predicted *pr = &plan->predicted;
	pp_sbuf b = PP_SBUF_INIT;
	pp_sched_run run;
	pp_sched_times tm;
	view vw;
	int i, r, rc, m = pp_global_microbatches(gl), md, S, cpr, split, rows;
	char name[sizeof(plan->model) > sizeof(plan->hw) ? sizeof(plan->model) : sizeof(plan->hw)];
	double busy, fwd, bwd, comm_frac, flush, pipe, total, step, t, H, axis_y, bar_y, stretch;
	double parts[6], *ct = NULL;

	(void)opts;
	*out = NULL;
	memset(&run, 0, sizeof(run));
	if (!pr->valid)
		return pp_error_set(err, PP_EINVALID, NULL, "predicted",
				    "svg: the plan has no predicted times (score it with parplan cost)");
	busy = pr->compute_s + pr->tp_comm_s + pr->pp_comm_s;
	if (!(busy > 0) || m < 1)
		return pp_error_set(err, PP_EINVALID, NULL, "predicted.compute_s",
				    "svg: predicted stage time is zero");
	comm_frac = (pr->tp_comm_s + pr->pp_comm_s) / busy;
	fwd = busy / m / (gl->recompute == PP_RECOMPUTE_FULL ? 4 : 3);
	bwd = busy / m - fwd;
	md = drawn_microbatches(gl, m);
	S = pp_sched_chunks(gl->schedule, gl->p, gl->virtual_stages);
	cpr = gl->schedule == PP_SCHED_DUALPIPE ? 1 : pp_sched_chunks_per_rank(gl->schedule, gl->virtual_stages);
	split = gl->schedule >= PP_SCHED_ZB_H1;
	if (!(ct = calloc(3 * (size_t)S, sizeof(double))))
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	for (i = 0; i < S; i++) {
		ct[i] = fwd / cpr;
		ct[S + i] = (split ? bwd / 2 : bwd) / cpr;
		ct[2 * S + i] = split ? bwd / 2 / cpr : 0;
	}
	tm.f = ct, tm.b = ct + S, tm.w = ct + 2 * S, tm.fx = NULL, tm.bx = NULL;
	if ((rc = pp_sched_simulate(gl->schedule, gl->p, gl->virtual_stages, md, &tm, &run, err)) < 0)
		goto done;
	flush = run.makespan_s;
	/* the predicted pipeline: what the iteration leaves after DP sync and the optimizer */
	pipe = pr->iteration_s - pr->dp_comm_s - pr->optimizer_s;
	memset(&vw, 0, sizeof(vw));
	stretch = 1;
	if (md < m && pipe > flush) {
		vw.elide = 1;
		vw.t_cut = flush / 2;
		vw.elided_s = pipe - flush;
	} else if (pipe > 0 && flush > 0) {
		stretch = pipe / flush;
	}
	for (i = 0; i < run.n; i++)
		run.ops[i].start_s *= stretch, run.ops[i].end_s *= stretch;
	flush *= stretch;
	vw.t_cut *= stretch;
	if (vw.elide) {
		/* cut where no op of rank 0 is running, the nearest op start at or after mid-way */
		double best = -1;
		for (i = 0; i < run.n; i++)
			if (run.ops[i].rank == 0 && run.ops[i].start_s >= vw.t_cut &&
			    (best < 0 || run.ops[i].start_s < best))
				best = run.ops[i].start_s;
		if (best > 0)
			vw.t_cut = best;
	}
	total = flush + pr->dp_comm_s + pr->optimizer_s;
	vw.scale = (WIDTH - (vw.elide ? BREAK : 0)) / total;
	rows = gl->p > MANY_RANKS ? 2 * EDGE_RANKS + 1 : gl->p;
	axis_y = TOP + rows * (ROW + GAP) + 4;
	bar_y = axis_y + 98;
	H = bar_y + 70;

	pp_sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	pp_sb_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
			 "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
		     LEFT + WIDTH + 20, H, LEFT + WIDTH + 20, H);
	pp_sb_printf(&b, "<title>");
	pp_sb_xml(&b, pp_emit_safe_name(name, sizeof(name), plan->model));
	pp_sb_printf(&b, " on ");
	pp_sb_xml(&b, pp_emit_safe_name(name, sizeof(name), plan->hw));
	pp_sb_printf(&b, ": pipeline timeline of one iteration</title>\n");
	pp_sb_printf(&b, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n",
		     LEFT + WIDTH + 20, H);
	/* each box ends with its communication share, drawn darker (hard gradient stops) */
	pp_sb_printf(&b, "<defs>\n");
	{
		static const char *const gid[] = {"gf", "gb", "gw"};
		static const char *const lite[] = {"#4e79a7", "#f28e2b", "#edc948"};
		static const char *const dark[] = {"#2b4a6b", "#9c5a1a", "#8a7420"};
		for (i = 0; i < 3; i++)
			pp_sb_printf(&b, "<linearGradient id=\"%s\"><stop offset=\"0\" stop-color=\"%s\"/>"
					 "<stop offset=\"%.4f\" stop-color=\"%s\"/><stop offset=\"%.4f\" "
					 "stop-color=\"%s\"/><stop offset=\"1\" stop-color=\"%s\"/>"
					 "</linearGradient>\n",
				     gid[i], lite[i], 1 - comm_frac, lite[i], 1 - comm_frac, dark[i], dark[i]);
	}
	pp_sb_printf(&b, "</defs>\n<style>.fwd{fill:url(#gf)}.bwd{fill:url(#gb)}.wgt{fill:url(#gw)}"
			 ".o{fill-opacity:0.55}</style>\n");
	pp_sb_printf(&b, "<text x=\"%.0f\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", LEFT);
	pp_sb_xml(&b, pp_emit_safe_name(name, sizeof(name), plan->model));
	pp_sb_printf(&b, " on ");
	pp_sb_xml(&b, pp_emit_safe_name(name, sizeof(name), plan->hw));
	pp_sb_printf(&b, ": t %d, p %d, d %d, %s", gl->t, gl->p, gl->d, pp_schedule_name(gl->schedule));
	if (gl->virtual_stages > 1)
		pp_sb_printf(&b, " with v %d chunks per stage", gl->virtual_stages);
	pp_sb_printf(&b, ", %d micro-batches</text>\n", m);
	pp_sb_printf(&b, "<text x=\"%.0f\" y=\"38\">iteration %.6g ms: pipeline %.6g ms (bubble %.1f%%), "
			 "DP sync %.4g ms, optimizer %.4g ms",
		     LEFT, 1e3 * pr->iteration_s, 1e3 * (flush + vw.elided_s),
		     pipe > 0 ? 100 * pr->bubble_s / pipe : 0.0, 1e3 * pr->dp_comm_s,
		     1e3 * pr->optimizer_s);
	if (vw.elide)
		pp_sb_printf(&b, "; %d of %d micro-batches drawn", md, m);
	pp_sb_printf(&b, "</text>\n");

	/* rows: grey background is idle time (the bubble shows through) */
	pp_sb_printf(&b, "<g id=\"timeline\" data-m=\"%d\" data-chunks=\"%d\">\n", md, S);
	if (gl->p > MANY_RANKS)
		pp_sb_printf(&b, "<text class=\"rows-elided\" data-ranks=\"%d\" x=\"%.0f\" y=\"%.1f\" "
				 "font-size=\"10\">ranks %d to %d left out: they run as their neighbours "
				 "do</text>\n",
			     gl->p - 2 * EDGE_RANKS, LEFT + 4, TOP + EDGE_RANKS * (ROW + GAP) + ROW / 2 + 4,
			     EDGE_RANKS, gl->p - EDGE_RANKS - 1);
	for (r = 0; r < gl->p; r++) {
		double y = TOP + row_of(gl->p, r) * (ROW + GAP);
		if (row_of(gl->p, r) < 0)
			continue;
		pp_sb_printf(&b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">rank %d</text>\n",
			     LEFT - 8, y + ROW / 2 + 4, r);
		pp_sb_printf(&b, "<rect class=\"idle\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
				 "height=\"%.0f\" fill=\"#e8e8e8\"/>\n",
			     LEFT, y, xpos(&vw, flush) - LEFT, ROW);
	}
	for (i = 0; i < run.n; i++) {
		const pp_sched_op *o = &run.ops[i];
		double x = xpos(&vw, o->start_s), w = xpos(&vw, o->end_s) - x;
		double y = TOP + row_of(gl->p, o->rank) * (ROW + GAP);
		int half, nh = o->kind == PP_SCHED_OP_FB ? 2 : 1;
		if (row_of(gl->p, o->rank) < 0)
			continue;
		if (vw.elide && o->start_s < vw.t_cut && o->end_s > vw.t_cut)
			w -= BREAK; /* runs into the break mark */
		for (half = 0; half < nh; half++) {
			int bk = o->kind == PP_SCHED_OP_FB ? half : o->kind != PP_SCHED_OP_F;
			int wg = o->kind == PP_SCHED_OP_W, mb = half ? o->mb2 : o->mb;
			int chunk = half ? o->chunk2 : o->chunk, pos = half ? o->pos2 : o->pos;
			double hy = y + (nh == 2 ? half * ROW / 2 : 0), hh = ROW / nh;
			int label = mb;
			if (vw.elide && o->start_s >= vw.t_cut)
				label += m - md; /* the micro-batches after the break are the last ones */
			pp_sb_printf(&b, "<rect class=\"%s%s\" data-stage=\"%d\" data-mb=\"%d\" "
					 "data-chunk=\"%d\" data-pos=\"%d\"%s x=\"%.1f\" y=\"%.0f\" "
					 "width=\"%.1f\" height=\"%.0f\"/>\n",
				     wg ? "wgt" : bk ? "bwd" : "fwd", chunk % 2 ? " o" : "", o->rank, mb,
				     chunk, pos, nh == 2 ? " data-overlap=\"1\"" : "", x, hy, w, hh);
			/* a label only where its digits fit the box */
			if (w >= 6.0 * (label >= 1000 ? 4 : label >= 100 ? 3 : label >= 10 ? 2 : 1) + 4 &&
			    hh >= 10)
				pp_sb_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
						 "fill=\"%s\" font-size=\"9\">%d</text>\n",
					     x + w / 2, hy + hh / 2 + 3, wg ? "black" : "white", label);
		}
	}
	for (r = 0; r < gl->p; r++) {
		double y = TOP + row_of(gl->p, r) * (ROW + GAP);
		if (row_of(gl->p, r) < 0)
			continue;
		if (pr->dp_comm_s > 0)
			pp_sb_printf(&b, "<rect class=\"dp\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" "
					 "height=\"%.0f\" fill=\"#59a14f\"><title>DP gradient sync "
					 "%.4g ms</title></rect>\n",
				     xpos(&vw, flush), y, pr->dp_comm_s * vw.scale, ROW, 1e3 * pr->dp_comm_s);
		if (pr->optimizer_s > 0)
			pp_sb_printf(&b, "<rect class=\"opt\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" "
					 "height=\"%.0f\" fill=\"#b07aa1\"><title>optimizer step "
					 "%.4g ms</title></rect>\n",
				     xpos(&vw, flush) + pr->dp_comm_s * vw.scale, y,
				     pr->optimizer_s * vw.scale, ROW, 1e3 * pr->optimizer_s);
	}
	if (vw.elide) {
		/* the break: a white band with two zigzags over every row, and what it leaves out */
		double x0 = LEFT + vw.t_cut * vw.scale, y0 = TOP - 4, y1 = TOP + rows * (ROW + GAP);
		pp_sb_printf(&b, "<g id=\"elided\" data-elided-mb=\"%d\" data-elided-s=\"%.6g\">\n",
			     m - md, vw.elided_s);
		pp_sb_printf(&b, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" "
				 "fill=\"white\"/>\n",
			     x0 + 4, y0, BREAK - 8, y1 - y0);
		for (i = 0; i < 2; i++) {
			double xx = x0 + 6 + i * (BREAK - 12), yy;
			pp_sb_printf(&b, "<polyline fill=\"none\" stroke=\"#555\" points=\"");
			for (yy = y0, r = 0; yy <= y1; yy += 6, r++)
				pp_sb_printf(&b, "%.1f,%.1f ", xx + (r % 2 ? 3 : -3), yy);
			pp_sb_printf(&b, "\"/>\n");
		}
		pp_sb_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">"
				 "%d micro-batches, %.0f ms elided</text>\n</g>\n",
			     x0 + BREAK / 2, TOP - 8, m - md, 1e3 * vw.elided_s);
	}
	pp_sb_printf(&b, "</g>\n");

	/* axis in milliseconds, real time: it jumps by the elided time at the break */
	step = tick_step(1e3 * total);
	pp_sb_printf(&b, "<g id=\"axis\">\n<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
			 "stroke=\"black\"/>\n",
		     LEFT, axis_y, LEFT + WIDTH, axis_y);
	{
		double last_x = -1e9, end = 1e3 * (total + vw.elided_s);
		for (t = 0; t <= end * (1 + 1e-9); t += step) {
			double ts = t / 1e3, x;
			if (vw.elide && ts > vw.t_cut && ts < vw.t_cut + vw.elided_s)
				continue;
			x = vw.elide && ts >= vw.t_cut + vw.elided_s ? LEFT + (ts - vw.elided_s) * vw.scale + BREAK
								     : LEFT + ts * vw.scale;
			if (x - last_x < 40) /* keep tick labels apart */
				continue;
			last_x = x;
			pp_sb_printf(&b, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
					 "stroke=\"black\"/><text x=\"%.2f\" y=\"%.1f\" "
					 "text-anchor=\"middle\">%g</text>\n",
				     x, axis_y, x, axis_y + 4, x, axis_y + 16, t);
		}
	}
	pp_sb_printf(&b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">time (ms)</text>\n</g>\n",
		     LEFT + WIDTH, axis_y + 30);

	/* legend: every colour of the picture, laid out by its text width in two rows */
	{
		static const char *const lab[] = {"forward", "backward (input gradient)",
						  "weight gradient (W)", "odd model chunk (lighter)",
						  "F&amp;B overlapped (halves)", "communication (dark end)",
						  "idle (bubble)", "DP gradient sync", "optimizer"};
		static const char *const col[] = {"#4e79a7", "#f28e2b", "#edc948", "#4e79a7",
						  "#4e79a7", "#2b4a6b", "#e8e8e8", "#59a14f", "#b07aa1"};
		double x = LEFT, y = axis_y + 40;
		pp_sb_printf(&b, "<g id=\"legend\">\n");
		for (i = 0; i < 9; i++) {
			const char *text = i == 1 && !split ? "backward"
					   : i == 1 && gl->schedule >= PP_SCHED_DUALPIPE
						   ? "backward (B, or B+W in one box)"
					   : i == 3 && gl->schedule == PP_SCHED_DUALPIPE
						   ? "reverse direction (lighter)"
						   : lab[i];
			/* only what the picture has: W with the split backward, the odd-chunk shade
			 * with chunks, the F&B halves with DualPipe */
			if ((i == 2 && !split) || (i == 3 && cpr < 2 && gl->schedule != PP_SCHED_DUALPIPE) ||
			    (i == 4 && gl->schedule != PP_SCHED_DUALPIPE && gl->schedule != PP_SCHED_DUALPIPEV))
				continue;
			double wd = 16 + CHAR_W * (double)strlen(text) + 18;
			if (x + wd > LEFT + WIDTH)
				x = LEFT, y += 20;
			if (i == 4) { /* two half-height samples */
				pp_sb_printf(&b, "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"6\" "
						 "fill=\"#4e79a7\"/><rect x=\"%.0f\" y=\"%.1f\" width=\"12\" "
						 "height=\"6\" fill=\"#f28e2b\"/>",
					     x, y, x, y + 6);
			} else {
				pp_sb_printf(&b, "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"12\" "
						 "fill=\"%s\"%s/>",
					     x, y, col[i], i == 3 ? " fill-opacity=\"0.55\"" : "");
			}
			pp_sb_printf(&b, "<text x=\"%.0f\" y=\"%.1f\">%s</text>\n", x + 16, y + 10, text);
			x += wd;
		}
		pp_sb_printf(&b, "</g>\n");
	}

	/* stacked bar of the predicted breakdown */
	parts[0] = pr->compute_s, parts[1] = pr->tp_comm_s, parts[2] = pr->pp_comm_s;
	parts[3] = pr->bubble_s, parts[4] = pr->dp_comm_s, parts[5] = pr->optimizer_s;
	{
		double sum = 0, x = LEFT, last_end = -1e9;
		for (i = 0; i < 6; i++)
			sum += parts[i] > 0 ? parts[i] : 0;
		pp_sb_printf(&b, "<g id=\"breakdown\">\n<text x=\"%.0f\" y=\"%.1f\">predicted time "
				 "breakdown of the %.6g ms iteration</text>\n",
			     LEFT, bar_y - 6, 1e3 * pr->iteration_s);
		for (i = 0; i < 6 && sum > 0; i++) {
			double w = (parts[i] > 0 ? parts[i] : 0) / sum * WIDTH, tw;
			char txt[64];
			if (w <= 0)
				continue;
			pp_sb_printf(&b, "<rect class=\"part\" data-part=\"%s\" x=\"%.3f\" y=\"%.1f\" "
					 "width=\"%.3f\" height=\"20\" fill=\"%s\"><title>%s %.4g ms "
					 "(%.1f%%)</title></rect>\n",
				     part_names[i], x, bar_y, w, part_colors[i], part_names[i],
				     1e3 * parts[i], 100 * parts[i] / sum);
			snprintf(txt, sizeof(txt), "%s %.1f%%", part_names[i], 100 * parts[i] / sum);
			tw = 5.0 * (double)strlen(txt);
			/* a label where it does not run into the one before */
			if (w > 20 && x >= last_end + 4 && x + 1 + tw <= LEFT + WIDTH + 18) {
				pp_sb_printf(&b, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"9\">%s</text>\n",
					     x + 1, bar_y + 33, txt);
				last_end = x + 1 + tw;
			}
			x += w;
		}
		pp_sb_printf(&b, "</g>\n");
	}
	pp_sb_printf(&b, "</svg>\n");
	rc = pp_sb_finish(&b, out, err);
done:
	pp_sched_run_release(&run);
	free(ct);
	free(b.s); /* NULL once finished */
	return rc;
}
