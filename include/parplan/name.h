/*
 * name.h - the one rule for the names a plan carries (its model's and hardware profile's).
 *
 * Plan names are written into launcher scripts and configs (comment lines, quoted bash, TOML and
 * YAML strings), so a name is 1 to PP_NAME_MAX - 1 characters, each a letter, a digit or one of
 * ". _ + -": no name can end a comment line or a quoted value.  It is checked wherever a name
 * enters a plan: `parplan model --name` (pp_model_generate()), pp_plan_init() (the graph's and
 * the hardware profile's names) and the plan loader, so that whatever `parplan model` or
 * `cost -o` accepts, `emit` accepts too.  The emitters also write every name through
 * pp_name_char_ok() (pp_emit_safe_name()), for plans made in code.
 */
#ifndef PARPLAN_NAME_H
#define PARPLAN_NAME_H

#include "parplan/error.h"

/** Longest name plus its NUL (the size of pp_plan's model and hw fields). */
#define PP_NAME_MAX 128

/** 1 when @ch (a char's value) may appear in a name, else 0. */
int pp_name_char_ok(int ch);

/**
 * Check @name against the rule.  0 when it holds; else PP_EINVALID, @err naming @file and
 * @path (either may be NULL: a command-line flag goes in @path, e.g. "--name") and the first
 * character at fault.
 */
int pp_name_check(const char *name, const char *file, const char *path, pp_error *err);

#endif
