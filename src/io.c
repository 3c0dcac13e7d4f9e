/* io.c - whole-file reads and atomic (temp file + rename) writes. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "parplan/io.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pp_read_file(const char *path, char **out, size_t *len, pp_error *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int rc = 0;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return pp_error_set(err, errno == ENOENT ? PP_ENOTFOUND : PP_EIO, path, NULL,
				    "cannot open: %s", strerror(errno));
	for (;;) {
		size_t got;
		if (cap - n < 65536) {
			size_t ncap = cap ? cap * 2 : 65536 * 2;
			char *nb;
			if (ncap > PP_READ_MAX + 65536 * 2)
				ncap = PP_READ_MAX + 65536 * 2;
			nb = realloc(buf, ncap);
			if (!nb) {
				rc = pp_error_set(err, PP_ENOMEM, path, NULL, "out of memory reading file");
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > PP_READ_MAX) {
			rc = pp_error_set(err, PP_EINVALID, path, NULL, "file larger than %zu MiB",
					  PP_READ_MAX >> 20);
			goto done;
		}
		if (got == 0) {
			if (ferror(f))
				rc = pp_error_set(err, PP_EIO, path, NULL, "read error");
			break;
		}
	}
	if (rc == 0) {
		buf[n] = '\0';
		*out = buf;
		buf = NULL;
		if (len)
			*len = n;
	}
done:
	free(buf);
	fclose(f);
	return rc;
}

/* Write straight into an existing file that is not a regular file (a device, a FIFO):
 * renaming a temporary file over it would replace the node instead of writing to it. */
static int write_direct(const char *path, const char *data, size_t len, pp_error *err)
{
	FILE *f = fopen(path, "wb");
	int ok;
	if (!f)
		return pp_error_set(err, PP_EIO, path, NULL, "cannot open: %s", strerror(errno));
	ok = fwrite(data, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok)
		return pp_error_set(err, PP_EIO, path, NULL, "write failed: %s", strerror(errno));
	return 0;
}

int pp_write_atomic(const char *path, const char *data, size_t len, pp_error *err)
{
	char *tmp = NULL, *resolved = NULL;
	const char *target = path;
	struct stat st;
	size_t plen;
	int fd = -1, rc = 0;
	FILE *f = NULL;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return pp_error_set(err, PP_EIO, "stdout", NULL, "write failed");
		return 0;
	}
	/* a symbolic link is written through (the file it names is replaced), not replaced */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (resolved = realpath(path, NULL)))
		target = resolved;
	if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? pp_error_set(err, PP_EIO, path, NULL, "is a directory")
					 : write_direct(target, data, len, err);
		free(resolved);
		return rc;
	}
	plen = strlen(target);
	tmp = malloc(plen + 16);
	if (!tmp) {
		free(resolved);
		return pp_error_set(err, PP_ENOMEM, path, NULL, "out of memory");
	}
	memcpy(tmp, target, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", 12);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = pp_error_set(err, PP_EIO, path, NULL, "cannot create: %s", strerror(errno));
		goto done;
	}
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		unlink(tmp);
		rc = pp_error_set(err, PP_EIO, path, NULL, "cannot write: %s", strerror(errno));
		goto done;
	}
	if (fwrite(data, 1, len, f) != len || fflush(f) != 0) {
		fclose(f);
		unlink(tmp);
		rc = pp_error_set(err, PP_EIO, path, NULL, "write failed: %s", strerror(errno));
		goto done;
	}
	if (fclose(f) != 0 || rename(tmp, target) != 0) {
		unlink(tmp);
		rc = pp_error_set(err, PP_EIO, path, NULL, "cannot write: %s", strerror(errno));
		goto done;
	}
done:
	free(tmp);
	free(resolved);
	return rc;
}
