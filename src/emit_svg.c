/*
 * emit_svg.c - an SVG timeline of one iteration: one row per pipeline stage, a box per
 * micro-batch (and model chunk) forward and backward as pp_pipe_simulate() schedules them, the
 * bubble left as grey background, the communication share of each box shaded, the data-parallel
 * gradient reduction and the optimizer step after the pipeline flush, an axis in milliseconds, a
 * legend, and a stacked bar of the predicted time breakdown.
 *
 * Box times come from the plan's prediction: a stage is busy compute_s + tp_comm_s + pp_comm_s
 * per iteration, that is m micro-batches of forward + backward, split 1:2 (1:3 with full
 * recompute, whose backward re-runs the forward); the darker end of each box is the
 * (tp_comm_s + pp_comm_s) share (a gradient with hard stops, one definition for all boxes).
 * Boxes of odd model chunks are drawn lighter.  Every box is a <rect class="fwd"|"bwd">
 * carrying data-stage, data-mb and data-chunk, so that the picture can be checked mechanically.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emit_int.h"

#define LEFT 90.0
#define WIDTH 1000.0
#define ROW 22.0
#define GAP 4.0
#define TOP 56.0

/* 1, 2 or 5 times a power of ten, about a tenth of @span */
static double tick_step(double span)
{
	double raw = span / 10, p = pow(10, floor(log10(raw))), f = raw / p;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
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
	pp_pipe_slot *slots = NULL;
	int n = 0, i, r, rc, m = pp_global_microbatches(gl);
	char name[sizeof(plan->model) > sizeof(plan->hw) ? sizeof(plan->model) : sizeof(plan->hw)];
	double busy, fwd, bwd, comm_frac, flush = 0, total, scale, step, t, H, axis_y, bar_y;
	double parts[6];

	(void)opts;
	*out = NULL;
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
	if ((rc = pp_pipe_simulate(gl, fwd, bwd, &slots, &n, err)) < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (slots[i].end_s > flush)
			flush = slots[i].end_s;
	total = flush + pr->dp_comm_s + pr->optimizer_s;
	scale = WIDTH / total;
	axis_y = TOP + gl->p * (ROW + GAP) + 4;
	bar_y = axis_y + 74;
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
	for (i = 0; i < 2; i++)
		pp_sb_printf(&b, "<linearGradient id=\"%s\"><stop offset=\"0\" stop-color=\"%s\"/>"
				 "<stop offset=\"%.4f\" stop-color=\"%s\"/><stop offset=\"%.4f\" "
				 "stop-color=\"%s\"/><stop offset=\"1\" stop-color=\"%s\"/>"
				 "</linearGradient>\n",
			     i ? "gb" : "gf", i ? "#f28e2b" : "#4e79a7", 1 - comm_frac,
			     i ? "#f28e2b" : "#4e79a7", 1 - comm_frac, i ? "#9c5a1a" : "#2b4a6b",
			     i ? "#9c5a1a" : "#2b4a6b");
	pp_sb_printf(&b, "</defs>\n");
	pp_sb_printf(&b, "<text x=\"%.0f\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", LEFT);
	pp_sb_xml(&b, pp_emit_safe_name(name, sizeof(name), plan->model));
	pp_sb_printf(&b, " on ");
	pp_sb_xml(&b, pp_emit_safe_name(name, sizeof(name), plan->hw));
	pp_sb_printf(&b, ": t %d, p %d, d %d, %s", gl->t, gl->p, gl->d, pp_schedule_name(gl->schedule));
	if (gl->virtual_stages > 1)
		pp_sb_printf(&b, " with v %d chunks per stage", gl->virtual_stages);
	pp_sb_printf(&b, ", %d micro-batches</text>\n", m);
	pp_sb_printf(&b, "<text x=\"%.0f\" y=\"38\">iteration %.6g ms predicted; pipeline flush at "
			 "%.6g ms simulated; bubble %.1f%% of the pipeline</text>\n",
		     LEFT, 1e3 * pr->iteration_s, 1e3 * flush, fmax(0.0, 100 * (1 - busy / flush)));

	/* rows: grey background is idle time (the bubble shows through) */
	pp_sb_printf(&b, "<g id=\"timeline\">\n");
	for (r = 0; r < gl->p; r++) {
		double y = TOP + r * (ROW + GAP);
		pp_sb_printf(&b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">stage %d</text>\n",
			     LEFT - 8, y + ROW / 2 + 4, r);
		pp_sb_printf(&b, "<rect class=\"idle\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
				 "height=\"%.0f\" fill=\"#e8e8e8\"/>\n",
			     LEFT, y, flush * scale, ROW);
	}
	for (i = 0; i < n; i++) {
		const pp_pipe_slot *s = &slots[i];
		double x = LEFT + s->start_s * scale, w = (s->end_s - s->start_s) * scale;
		double y = TOP + s->stage * (ROW + GAP);
		pp_sb_printf(&b, "<rect class=\"%s\" data-stage=\"%d\" data-mb=\"%d\" "
				 "data-chunk=\"%d\" x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" "
				 "height=\"%.0f\" fill=\"url(#%s)\"%s/>\n",
			     s->backward ? "bwd" : "fwd", s->stage, s->microbatch, s->chunk, x, y, w, ROW,
			     s->backward ? "gb" : "gf",
			     s->chunk % 2 ? " fill-opacity=\"0.7\"" : "");
		if (w >= 14)
			pp_sb_printf(&b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" "
					 "fill=\"white\" font-size=\"9\">%d</text>\n",
				     x + w / 2, y + ROW / 2 + 3, s->microbatch);
	}
	for (r = 0; r < gl->p; r++) {
		double y = TOP + r * (ROW + GAP);
		if (pr->dp_comm_s > 0)
			pp_sb_printf(&b, "<rect class=\"dp\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" "
					 "height=\"%.0f\" fill=\"#59a14f\"><title>DP gradient sync "
					 "%.4g ms</title></rect>\n",
				     LEFT + flush * scale, y, pr->dp_comm_s * scale, ROW,
				     1e3 * pr->dp_comm_s);
		if (pr->optimizer_s > 0)
			pp_sb_printf(&b, "<rect class=\"opt\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" "
					 "height=\"%.0f\" fill=\"#b07aa1\"><title>optimizer step "
					 "%.4g ms</title></rect>\n",
				     LEFT + (flush + pr->dp_comm_s) * scale, y, pr->optimizer_s * scale,
				     ROW, 1e3 * pr->optimizer_s);
	}
	pp_sb_printf(&b, "</g>\n");

	/* axis in milliseconds */
	step = tick_step(1e3 * total);
	pp_sb_printf(&b, "<g id=\"axis\">\n<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
			 "stroke=\"black\"/>\n",
		     LEFT, axis_y, LEFT + WIDTH, axis_y);
	for (t = 0; t <= 1e3 * total * (1 + 1e-9); t += step) {
		double x = LEFT + t / 1e3 * scale;
		pp_sb_printf(&b, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
				 "stroke=\"black\"/><text x=\"%.2f\" y=\"%.1f\" "
				 "text-anchor=\"middle\">%g</text>\n",
			     x, axis_y, x, axis_y + 4, x, axis_y + 16, t);
	}
	pp_sb_printf(&b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">time (ms)</text>\n</g>\n",
		     LEFT + WIDTH, axis_y + 30);

	/* legend */
	{
		static const char *const lab[] = {"forward", "backward", "communication (dark end)",
						  "idle (bubble)", "DP gradient sync", "optimizer"};
		static const char *const col[] = {"#4e79a7", "#f28e2b", "#2b4a6b",
						  "#e8e8e8", "#59a14f", "#b07aa1"};
		pp_sb_printf(&b, "<g id=\"legend\">\n");
		for (i = 0; i < 6; i++) {
			double x = LEFT + i * 165;
			pp_sb_printf(&b, "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"12\" "
					 "fill=\"%s\"/><text x=\"%.0f\" y=\"%.1f\">%s</text>\n",
				     x, axis_y + 38, col[i], x + 16, axis_y + 48, lab[i]);
		}
		pp_sb_printf(&b, "</g>\n");
	}

	/* stacked bar of the predicted breakdown */
	parts[0] = pr->compute_s, parts[1] = pr->tp_comm_s, parts[2] = pr->pp_comm_s;
	parts[3] = pr->bubble_s, parts[4] = pr->dp_comm_s, parts[5] = pr->optimizer_s;
	{
		double sum = 0, x = LEFT;
		for (i = 0; i < 6; i++)
			sum += parts[i] > 0 ? parts[i] : 0;
		pp_sb_printf(&b, "<g id=\"breakdown\">\n<text x=\"%.0f\" y=\"%.1f\">predicted time "
				 "breakdown (%.6g ms per iteration)</text>\n",
			     LEFT, bar_y - 6, 1e3 * pr->iteration_s);
		for (i = 0; i < 6 && sum > 0; i++) {
			double w = (parts[i] > 0 ? parts[i] : 0) / sum * WIDTH;
			if (w <= 0)
				continue;
			pp_sb_printf(&b, "<rect class=\"part\" data-part=\"%s\" x=\"%.3f\" y=\"%.1f\" "
					 "width=\"%.3f\" height=\"20\" fill=\"%s\"><title>%s %.4g ms "
					 "(%.1f%%)</title></rect>\n",
				     part_names[i], x, bar_y, w, part_colors[i], part_names[i],
				     1e3 * parts[i], 100 * parts[i] / sum);
			if (w > 60)
				pp_sb_printf(&b, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"9\">%s "
						 "%.1f%%</text>\n",
					     x + 3, bar_y + 33, part_names[i], 100 * parts[i] / sum);
			x += w;
		}
		pp_sb_printf(&b, "</g>\n");
	}
	pp_sb_printf(&b, "</svg>\n");
	free(slots);
	return pp_sb_finish(&b, out, err);
}
