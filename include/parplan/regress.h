/*
 * regress.h - regression cases for cost predictions ("parplan-regress/1").
 *
 * A case file lists cases; each names a model graph and a hardware profile (paths relative to
 * the case file's folder), a plan (inline global settings, or a parplan-plan/1 file), or a search
 * to run, and the values the cost model is expected to give for any of the `parplan cost --json`
 * fields ("mfu", "time.bubble_s", "memory.peak_gib", ...), each with a relative tolerance
 * (default 1%).  A search case may also expect the best plan's global degrees.
 *
 * Lifecycle: pp_regress_load() parses and checks a file (every error names the file and the JSON
 * path); pp_regress_run() evaluates its cases in-process through the cost model and records what
 * each expectation got and whether it holds; pp_regress_update() takes the results as the new
 * expectations and pp_regress_to_json() prints the file in its one canonical form (fixed key
 * order, numbers in the shortest form that reads back to the same double), so that printing a
 * file that was just printed and read changes no byte.  pp_regress_junit() renders JUnit XML.
 * Nothing here prints; the caller owns every returned string and frees it with free().
 * Code: src/regress_load.c (reading), regress_run.c (evaluating, updating), regress_report.c
 * (the canonical text, JSON results and JUnit), regress_search.c (a search case's search).
 */
#ifndef PARPLAN_REGRESS_H
#define PARPLAN_REGRESS_H

#include "parplan/error.h"
#include "parplan/strategy.h"

#define PP_REGRESS_FORMAT "parplan-regress/1"
/** Relative tolerance of an expectation that gives none. */
#define PP_REGRESS_DEFAULT_TOL 0.01

typedef enum pp_regress_kind {
	PP_REGRESS_NUMBER = 0,  /* a double compared with a relative tolerance */
	PP_REGRESS_BOOL,        /* true / false, compared exactly */
	PP_REGRESS_INT,         /* a search degree, compared exactly */
	PP_REGRESS_STRING       /* schedule or recompute of a search result, compared exactly */
} pp_regress_kind;

typedef enum pp_regress_verdict {
	PP_REGRESS_PASS = 0,
	PP_REGRESS_DRIFT,       /* outside its tolerance (or a different bool / degree / name) */
	PP_REGRESS_UNSET        /* the file holds no value yet (null): run --update */
} pp_regress_verdict;

typedef struct pp_regress_expect {
	char field[40];         /* "mfu", "time.bubble_s", "search.t", ... */
	pp_regress_kind kind;
	int has_value;          /* 0 when the file says null */
	double value;           /* number, bool (0/1) or integer */
	char str[16];           /* PP_REGRESS_STRING */
	int has_tol;            /* tolerance given in the file (printed back only then) */
	double tol;             /* relative; PP_REGRESS_DEFAULT_TOL when not given */
	/* filled by pp_regress_run() */
	int evaluated;
	double got;
	char got_str[16];
	double drift;           /* (got - value) / |value|, relative; 0 for exact kinds */
	pp_regress_verdict verdict;
} pp_regress_expect;

typedef enum pp_regress_source {
	PP_REGRESS_INLINE = 0,  /* "plan": {global settings} */
	PP_REGRESS_PLAN_FILE,   /* "plan_file": path to a parplan-plan/1 file */
	PP_REGRESS_SEARCH       /* "search": {gpus, global_batch, method, ...} */
} pp_regress_source;

/* Search settings of a search case. */
typedef struct pp_regress_search {
	int gpus, global_batch;
	char method[16];        /* "exhaustive" (default), "mcmc" or "ilp" */
	unsigned long long seed;
	int has_seed;
	double time_limit_s;    /* 0: none */
} pp_regress_search;

typedef struct pp_regress_case {
	char *name;
	char *note;             /* free text, may be NULL */
	char *model, *hw;       /* as written in the file */
	char *model_path, *hw_path; /* resolved against the case file's folder */
	char *stack, *stack_path;   /* optional "stack": a stack file, resolved like hw; NULL: the
				     * pre-stack (legacy) model the older goldens were made with */
	pp_regress_source source;
	pp_global global;       /* PP_REGRESS_INLINE */
	unsigned global_keys;   /* which plan keys the file gave (printed back only those): bit i
				 * for row i of the table of plan settings, then "gpus" */
	int gpus;               /* optional plan "gpus", 0 when not given */
	char *plan_file, *plan_file_path;
	pp_regress_search search;
	int n_expect;
	pp_regress_expect *expect;
	int has_search_expect;  /* expect.search given */
} pp_regress_case;

typedef struct pp_regress_file {
	char *path;
	char *note;
	int n_cases;
	pp_regress_case *cases;
} pp_regress_file;

/** Load and check the case file @path.  *out is freed with pp_regress_free(). */
int pp_regress_load(const char *path, pp_regress_file **out, pp_error *err);
/** The same from text; @name_for_errors stands for the file (and its folder for paths). */
int pp_regress_parse(const char *name_for_errors, const char *text, pp_regress_file **out,
		     pp_error *err);
/** NULL-safe. */
void pp_regress_free(pp_regress_file *f);

/**
 * Evaluate every case of @f and fill each expectation's got / drift / verdict.  Bad input (a
 * model, profile or plan file that cannot be read, a plan that breaks a rule) fails with the
 * loader's error, the case named in the message; a case file error names @f's path and the JSON
 * path ("cases[3].model").
 */
int pp_regress_run(pp_regress_file *f, pp_error *err);

/** Expectations checked and of those not passing (drift or unset), after pp_regress_run(). */
int pp_regress_count(const pp_regress_file *f, int *failures);

/**
 * Take every evaluated result as the new expected value (tolerances kept).  Returns how many
 * values changed (were unset or differ in any bit).  A non-finite number is left unset.
 */
int pp_regress_update(pp_regress_file *f);

/** The canonical text of @f (malloc'd; NULL when out of memory). */
char *pp_regress_to_json(const pp_regress_file *f);

/** JUnit XML for the results of @n files: one testsuite per file, one testcase per case and
 * field, a <failure> with expected, got and drift for each that does not pass. */
char *pp_regress_junit(pp_regress_file *const *files, int n);

/** The results as JSON ("parplan regress --json"). */
char *pp_regress_results_json(pp_regress_file *const *files, int n);

/**
 * Write @v into @buf (at least 32 bytes) in the shortest %.Ng form that reads back as the same
 * double (N <= 17).  Returns @buf.
 */
char *pp_regress_format_number(double v, char *buf, size_t n);

/** The expected and got values of @e as text (numbers via pp_regress_format_number). */
void pp_regress_expect_text(const pp_regress_expect *e, int got, char *buf, size_t n);

#endif
