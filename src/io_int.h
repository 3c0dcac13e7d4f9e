/*
 * io_int.h - what io.c shares with pp_emit_to_dir() (src/emit.c), which writes several files
 * all or nothing: resolving an output path, staging a file next to its target, keeping a backup
 * of a file about to be replaced, and the rename both use.
 */
#ifndef PARPLAN_IO_INT_H
#define PARPLAN_IO_INT_H

#include <stddef.h>
#include <sys/stat.h>

#include "parplan/error.h"
#include "parplan/io.h"

/*
 * The rename(2) every atomic write ends with.  A test-only hook: the library never assigns it;
 * a Check suite may point it at a stand-in that fails (e.g. the Nth call with EBUSY) to drive
 * the clean-up and roll-back paths.  Not thread-safe to change while writes are under way.
 */
extern int (*pp_io_rename)(const char *from, const char *to);

/* Where the bytes written to a path go. */
typedef struct pp_io_target {
	char *path;      /* the path with every symbolic link followed (malloc'd); its folder is
			  * where the temporary file goes */
	int exists;      /* 1: it exists and @st is its stat */
	struct stat st;
} pp_io_target;

/**
 * Follow @path's symbolic links (a dangling one to the file it would create) into @t, which the
 * caller releases with pp_io_target_release().  A loop of links is PP_EINVALID naming @path.
 */
int pp_io_resolve(const char *path, pp_io_target *t, pp_error *err);
void pp_io_target_release(pp_io_target *t);

/**
 * Write @len bytes to a new file in @t's folder, with the permissions @t's file has (when it
 * exists) or 0666 (0777 with PP_WRITE_SCRIPT) less the umask; *tmp receives its name
 * (malloc'd, the caller renames or unlinks it and frees it).  Errors name @user_path.
 */
int pp_io_stage(const char *user_path, const pp_io_target *t, const char *data, size_t len,
		unsigned flags, char **tmp, pp_error *err);

/**
 * Keep @t's existing file under a new name in its folder (a hard link, else a copy); *bak
 * receives the name (malloc'd, caller frees).  Renaming it back restores the file as it was.
 */
int pp_io_backup(const char *user_path, const pp_io_target *t, char **bak, pp_error *err);

#endif
