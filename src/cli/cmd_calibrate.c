/*
 * cmd_calibrate.c - `parplan calibrate --measurements M --hw H -o OUT [--name N]
 * [--model G [--predict M2]] [--json]`: a hardware profile from parplan-exec's measurements.
 * With --model, also price the measured layer with the new profile and print predicted against
 * measured; with --predict, do the same for another run M2 (other shapes: a micro-batch or t the
 * calibration did not see) that the profile was not fitted to.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "json_int.h"
#include "parplan/calib.h"
#include "parplan/graph.h"
#include "parplan/io.h"

int cmd_calibrate(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	const char *mp = NULL, *hp = NULL, *out = NULL, *name = NULL, *model = NULL, *pp = NULL;
	char *mt = NULL, *ht = NULL, *prof = NULL, *pt = NULL;
	pp_calib_summary sum;
	pp_calib_layer lay, pl;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	int i, r, json = 0, rc = CLI_OK;

	for (i = 1; i < argc; i++) {
		if ((r = cli_opt(argc, argv, &i, "--measurements", &mp)) < 0 ||
		    (!r && (r = cli_opt(argc, argv, &i, "--hw", &hp)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "-o", &out)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "--name", &name)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "--model", &model)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "--predict", &pp)) < 0))
			return CLI_BAD;
		if (r)
			continue;
		if ((r = cli_flag(argv, i, "--json")) != 0) {
			if (r < 0)
				return CLI_BAD;
			json = 1;
			continue;
		}
		return cli_usage("calibrate: unknown option \"%.40s\"", argv[i]);
	}
	if (!mp || !hp || !out || (pp && !model))
		return cli_usage("usage: parplan calibrate --measurements M --hw H -o OUT [--name N] "
				 "[--model G [--predict M2]] [--json]");
	if (pp_read_file(mp, &mt, NULL, &err) < 0 || pp_read_file(hp, &ht, NULL, &err) < 0 ||
	    pp_calibrate(mp, mt, hp, ht, name, &prof, &sum, &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	if (model) {
		if (pp_graph_load(model, &g, &err) < 0 || pp_hw_parse(out, prof, &hw, &err) < 0 ||
		    pp_calib_layer_check(mp, mt, g, hw, &lay, &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
		if (pp && (pp_read_file(pp, &pt, NULL, &err) < 0 ||
			   pp_calib_layer_check(pp, pt, g, hw, &pl, &err) < 0)) {
			rc = cli_error(&err);
			goto done;
		}
	}
	if (pp_write_atomic(out, prof, strlen(prof), &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;
		cJSON_AddStringToObject(o, "profile", out);
		cJSON_AddNumberToObject(o, "gemm_points", sum.n_points);
		cJSON_AddNumberToObject(o, "min_tflops", sum.min_tflops);
		cJSON_AddNumberToObject(o, "max_tflops", sum.max_tflops);
		cJSON_AddNumberToObject(o, "collectives_fitted", sum.n_coll);
		cJSON_AddNumberToObject(o, "alpha_us", sum.alpha_s * 1e6);
		cJSON_AddNumberToObject(o, "bw_gbs", sum.bw_gbs);
		cJSON_AddNumberToObject(o, "fit_rms", sum.fit_rms);
		cJSON_AddNumberToObject(o, "memory_bw_gbs", sum.memory_bw_gbs);
		if (model) {
			cJSON *l = cJSON_AddObjectToObject(o, "layer");
			cJSON_AddNumberToObject(l, "measured_s", lay.measured_s);
			cJSON_AddNumberToObject(l, "measured_gemm_s", lay.measured_gemm_s);
			cJSON_AddNumberToObject(l, "measured_collective_s", lay.measured_coll_s);
			cJSON_AddNumberToObject(l, "predicted_s", lay.predicted_s);
			cJSON_AddNumberToObject(l, "predicted_gemm_s", lay.predicted_gemm_s);
			cJSON_AddNumberToObject(l, "predicted_tp_s", lay.predicted_tp_s);
			cJSON_AddNumberToObject(l, "rel_error", lay.rel_error);
		}
		if (pp) {
			cJSON *l = cJSON_AddObjectToObject(o, "predict");
			cJSON_AddStringToObject(l, "measurements", pp);
			cJSON_AddNumberToObject(l, "measured_s", pl.measured_s);
			cJSON_AddNumberToObject(l, "measured_gemm_s", pl.measured_gemm_s);
			cJSON_AddNumberToObject(l, "measured_collective_s", pl.measured_coll_s);
			cJSON_AddNumberToObject(l, "predicted_s", pl.predicted_s);
			cJSON_AddNumberToObject(l, "predicted_gemm_s", pl.predicted_gemm_s);
			cJSON_AddNumberToObject(l, "predicted_tp_s", pl.predicted_tp_s);
			cJSON_AddNumberToObject(l, "rel_error", pl.rel_error);
		}
		s = pp_json_print(o);
		if (s)
			fputs(s, stdout);
		free(s);
		cJSON_Delete(o);
	} else {
		printf("wrote %s: %d GEMM points (%.4g to %.4g TFLOP/s)", out, sum.n_points,
		       sum.min_tflops, sum.max_tflops);
		if (sum.n_coll)
			printf(", link alpha %.3g us, %.4g GB/s from %d collectives (rms %.1f%%)",
			       sum.alpha_s * 1e6, sum.bw_gbs, sum.n_coll, 100 * sum.fit_rms);
		if (sum.memory_bw_gbs > 0)
			printf(", memory %.4g GB/s", sum.memory_bw_gbs);
		printf("\n");
		if (model)
			printf("layer fwd+bwd: measured %.4g ms (GEMMs %.4g, collectives %.4g), "
			       "predicted %.4g ms (GEMMs %.4g, TP %.4g): %+.1f%%\n",
			       lay.measured_s * 1e3, lay.measured_gemm_s * 1e3,
			       lay.measured_coll_s * 1e3, lay.predicted_s * 1e3,
			       lay.predicted_gemm_s * 1e3, lay.predicted_tp_s * 1e3,
			       100 * lay.rel_error);
		if (pp)
			printf("%s, not calibrated on: measured %.4g ms (GEMMs %.4g, collectives "
			       "%.4g), predicted %.4g ms (GEMMs %.4g, TP %.4g): %+.1f%%\n", pp,
			       pl.measured_s * 1e3, pl.measured_gemm_s * 1e3,
			       pl.measured_coll_s * 1e3, pl.predicted_s * 1e3,
			       pl.predicted_gemm_s * 1e3, pl.predicted_tp_s * 1e3,
			       100 * pl.rel_error);
	}
done:
	pp_graph_free(g);
	pp_hw_free(hw);
	free(mt);
	free(pt);
	free(ht);
	free(prof);
	return rc;
}
