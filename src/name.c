/* name.c - the rule for plan names (see name.h). */
#include "parplan/name.h"

#include <string.h>

int pp_name_char_ok(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '+' || ch == '-';
}

int pp_name_check(const char *name, const char *file, const char *path, pp_error *err)
{
	const char *q;
	if (!name || !*name)
		return pp_error_set(err, PP_EINVALID, file, path, "empty name");
	for (q = name; *q; q++)
		if (!pp_name_char_ok((unsigned char)*q))
			return pp_error_set(err, PP_EINVALID, file, path,
					    "character %d at offset %d is not allowed in a name "
					    "(letters, digits, \".\", \"_\", \"+\", \"-\")",
					    (unsigned char)*q, (int)(q - name));
	if (q - name >= PP_NAME_MAX)
		return pp_error_set(err, PP_EINVALID, file, path, "longer than %d characters",
				    PP_NAME_MAX - 1);
	return 0;
}
