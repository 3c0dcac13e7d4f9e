/* io.c - whole-file reads and atomic (temp file + rename) writes. */
#define _XOPEN_SOURCE 700 /* readlink, fchown */
#include "parplan/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_int.h"

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

int (*pp_io_rename)(const char *from, const char *to) = rename;

/* Links followed before a path counts as a loop (Linux's own limit). */
#define MAX_LINK_HOPS 40

static char *str_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* The target of link @link, whose contents are @dest: @dest itself when absolute, else @dest
 * in @link's folder.  malloc'd. */
static char *link_target(const char *link, const char *dest)
{
	const char *slash = strrchr(link, '/');
	size_t dn = dest[0] == '/' || !slash ? 0 : (size_t)(slash - link) + 1, n = strlen(dest);
	char *p = malloc(dn + n + 1);
	if (p) {
		memcpy(p, link, dn);
		memcpy(p + dn, dest, n + 1);
	}
	return p;
}

static int loop_error(const char *path, pp_error *err)
{
	return pp_error_set(err, PP_EINVALID, path, NULL,
			    "symbolic links form a loop, nothing written");
}

int pp_io_resolve(const char *path, pp_io_target *t, pp_error *err)
{
	char *cur = str_dup(path), *buf = NULL;
	int hops, rc = 0;

	memset(t, 0, sizeof(*t));
	if (!cur)
		return pp_error_set(err, PP_ENOMEM, path, NULL, "out of memory");
	for (hops = 0;; hops++) {
		ssize_t got;
		size_t cap;
		char *next;
		if (lstat(cur, &t->st) < 0) {
			if (errno == ENOENT)
				break; /* to be created (a folder missing on the way fails then) */
			rc = errno == ELOOP ? loop_error(path, err)
					    : pp_error_set(err, PP_EIO, path, NULL, "cannot write: %s",
							   strerror(errno));
			goto done;
		}
		if (!S_ISLNK(t->st.st_mode)) {
			t->exists = 1;
			break;
		}
		if (hops == MAX_LINK_HOPS) {
			rc = loop_error(path, err);
			goto done;
		}
		/* st_size is the link's length, but 0 on some file systems: grow until it fits */
		for (cap = t->st.st_size > 0 ? (size_t)t->st.st_size + 1 : 256;; cap *= 2) {
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = pp_error_set(err, PP_ENOMEM, path, NULL, "out of memory");
				goto done;
			}
			buf = nb;
			if ((got = readlink(cur, buf, cap)) < 0) {
				rc = pp_error_set(err, PP_EIO, path, NULL, "cannot read link %s: %s", cur,
						  strerror(errno));
				goto done;
			}
			if ((size_t)got < cap)
				break;
		}
		buf[got] = '\0';
		if (!(next = link_target(cur, buf))) {
			rc = pp_error_set(err, PP_ENOMEM, path, NULL, "out of memory");
			goto done;
		}
		free(cur);
		cur = next;
	}
	t->path = cur;
	cur = NULL;
done:
	free(cur);
	free(buf);
	return rc;
}

void pp_io_target_release(pp_io_target *t)
{
	free(t->path);
	t->path = NULL;
}

/* A new name "<target>.<tag>.<pid>.<k>" next to @t's file, @k the first free; @make creates
 * it (returns -1 with errno EEXIST when taken).  *out receives the name. */
static int unique_name(const pp_io_target *t, const char *tag, int (*make)(const char *, void *),
		       void *arg, char **out)
{
	size_t n = strlen(t->path) + strlen(tag) + 48;
	char *name = malloc(n);
	int k, r = -1;
	if (!name) {
		errno = ENOMEM;
		return -1;
	}
	for (k = 0; k < 10000; k++) {
		snprintf(name, n, "%s.%s.%ld.%d", t->path, tag, (long)getpid(), k);
		if ((r = make(name, arg)) >= 0 || errno != EEXIST)
			break;
	}
	if (r < 0) {
		int e = errno;
		free(name);
		errno = e;
		return -1;
	}
	*out = name;
	return r;
}

static int make_file(const char *name, void *mode)
{
	return open(name, O_WRONLY | O_CREAT | O_EXCL, *(mode_t *)mode);
}

static int make_link(const char *name, void *from)
{
	return link((const char *)from, name);
}

int pp_io_stage(const char *user_path, const pp_io_target *t, const char *data, size_t len,
		unsigned flags, char **tmp, pp_error *err)
{
	/* a new file: the kernel applies the umask (or a default ACL) to what open(2) asks for */
	mode_t mode = t->exists ? 0600 : (flags & PP_WRITE_SCRIPT) ? 0777 : 0666;
	size_t done = 0;
	int fd, rc = 0;

	*tmp = NULL;
	if ((fd = unique_name(t, "tmp", make_file, &mode, tmp)) < 0) {
		if (strcmp(user_path, t->path))
			return pp_error_set(err, PP_EIO, user_path, NULL, "cannot create %s: %s",
					    t->path, strerror(errno));
		return pp_error_set(err, PP_EIO, user_path, NULL, "cannot create: %s",
				    strerror(errno));
	}
	if (t->exists) {
		/* the file it replaces keeps its owner and group where we may give them, and its
		 * permission bits in any case (set-id bits are not carried over to new contents) */
		if (fchown(fd, t->st.st_uid, t->st.st_gid) < 0) {
			/* not ours to give away: the replacement belongs to the writer */
		}
		if (fchmod(fd, t->st.st_mode & 0777) < 0)
			rc = pp_error_set(err, PP_EIO, user_path, NULL, "cannot set mode: %s",
					  strerror(errno));
	}
	while (rc == 0 && done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = pp_error_set(err, PP_EIO, user_path, NULL, "write failed: %s",
					  strerror(w < 0 ? errno : EIO));
		else
			done += (size_t)w;
	}
	if (close(fd) < 0 && rc == 0)
		rc = pp_error_set(err, PP_EIO, user_path, NULL, "write failed: %s", strerror(errno));
	if (rc < 0) {
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return rc;
}

int pp_io_backup(const char *user_path, const pp_io_target *t, char **bak, pp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*bak = NULL;
	if (unique_name(t, "bak", make_link, t->path, bak) >= 0)
		return 0;
	/* no hard links here (some file systems): a copy with the same permissions */
	if ((rc = pp_read_file(t->path, &text, &len, err)) == 0)
		rc = pp_io_stage(user_path, t, text, len, 0, bak, err);
	free(text);
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

int pp_write_atomic_flags(const char *path, const char *data, size_t len, unsigned flags,
			  pp_error *err)
{
	pp_io_target t;
	char *tmp = NULL;
	int rc;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return pp_error_set(err, PP_EIO, "stdout", NULL, "write failed");
		return 0;
	}
	/* an existing device or FIFO, asked of the kernel, which also follows the links of /proc
	 * that name no path (/dev/stdout -> /proc/self/fd/1 -> "pipe:[...]") */
	if (stat(path, &t.st) == 0 && !S_ISREG(t.st.st_mode))
		return S_ISDIR(t.st.st_mode) ? pp_error_set(err, PP_EIO, path, NULL, "is a directory")
					     : write_direct(path, data, len, err);
	/* a symbolic link is written through (the file it names is replaced), not replaced */
	if ((rc = pp_io_resolve(path, &t, err)) < 0)
		return rc;
	if (t.exists && !S_ISREG(t.st.st_mode)) /* changed since the stat above */
		rc = pp_error_set(err, PP_EIO, path, NULL, "not a regular file");
	else if ((rc = pp_io_stage(path, &t, data, len, flags, &tmp, err)) == 0 &&
		 pp_io_rename(tmp, t.path) < 0) {
		rc = pp_error_set(err, PP_EIO, path, NULL, "cannot write: %s", strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	pp_io_target_release(&t);
	return rc;
}

int pp_write_atomic(const char *path, const char *data, size_t len, pp_error *err)
{
	return pp_write_atomic_flags(path, data, len, 0, err);
}
