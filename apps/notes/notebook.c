// SPDX-License-Identifier: MIT
// The notebook: notes in memory, saved whole and atomically after every change.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notebook.h"
#include "text.h"

#define NOTEBOOK_FORMAT 1
#define NOTEBOOK_FILE_MAX (512ll << 20)   // far above what 1000 capped notes can take

static void author_free(struct note_author *a)
{
	free(a->id);
	free(a->name);
	a->id = a->name = NULL;
}

static void note_free(struct note *n)
{
	free(n->title);
	free(n->body);
	author_free(&n->created_by);
	author_free(&n->updated_by);
}

static int author_copy(struct note_author *dst, const struct note_author *src)
{
	dst->id = src->id ? strdup(src->id) : NULL;
	dst->name = strdup(src->name ? src->name : "Anonymous");
	if ((src->id && !dst->id) || !dst->name) {
		author_free(dst);
		return -1;
	}
	return 0;
}

// --- Saving ---

// jansson's dump callback writes through this buffer to the temp file.
struct writer {
	int fd;
	size_t len;
	bool failed;
	char buf[1 << 16];
};

static int writer_flush(struct writer *w)
{
	size_t off = 0;
	while (off < w->len && !w->failed) {
		ssize_t k = write(w->fd, w->buf + off, w->len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			w->failed = true;
		else
			off += (size_t)k;
	}
	w->len = 0;
	return w->failed ? -1 : 0;
}

static int writer_put(const char *p, size_t n, void *data)
{
	struct writer *w = data;
	while (n && !w->failed) {
		size_t room = sizeof(w->buf) - w->len;
		size_t k = n < room ? n : room;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == sizeof(w->buf))
			writer_flush(w);
	}
	return w->failed ? -1 : 0;
}

// Writes the whole notebook to fd, one note's JSON at a time so memory stays small.
static int notebook_write(const struct notebook *nb, struct writer *w)
{
	char head[128];
	snprintf(head, sizeof(head), "{\"format\":%d,\"next_id\":%lld,\"revision\":%lld,\"notes\":[",
		 NOTEBOOK_FORMAT, (long long)nb->next_id, (long long)nb->revision);
	writer_put(head, strlen(head), w);
	for (size_t i = 0; i < nb->n && !w->failed; i++) {
		json_t *o = notebook_note_json(&nb->notes[i]);
		if (!o)
			return -1;
		if (i)
			writer_put(",\n", 2, w);
		int r = json_dump_callback(o, writer_put, w, JSON_COMPACT);
		json_decref(o);
		if (r < 0)
			return -1;
	}
	writer_put("]}\n", 3, w);
	return writer_flush(w);
}

// Temp file, fsync, rename over the old file, fsync the directory: after a crash the file
// is either the old notebook or the new one, never a mix (and the rename itself survives).
static int notebook_save(struct notebook *nb)
{
	int fd = open(nb->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("notebook_save: %s: %s", nb->tmp_path, strerror(errno));
		return -1;
	}
	struct writer *w = malloc(sizeof(*w));
	int r = -1;
	if (w) {
		w->fd = fd;
		w->len = 0;
		w->failed = false;
		r = notebook_write(nb, w);
		free(w);
	}
	if (r == 0 && fsync(fd) < 0)
		r = -1;
	int saved_errno = errno;
	if (close(fd) < 0)
		r = -1;
	if (r == 0 && rename(nb->tmp_path, nb->path) < 0)
		r = -1;
	if (r < 0) {
		log_err("notebook_save: %s: %s", nb->path, strerror(saved_errno ? saved_errno : errno));
		unlink(nb->tmp_path);
		return -1;
	}
	if (fsync(nb->dir_fd) < 0)
		log_warn("notebook_save: fsync of the directory: %s", strerror(errno));
	return 0;
}

// --- Loading ---

static int author_from_json(json_t *o, struct note_author *a)
{
	json_t *id = json_object_get(o, "id"), *name = json_object_get(o, "name");
	if (!json_is_object(o) || !json_is_string(name) || !(json_is_null(id) || json_is_string(id)))
		return -1;
	a->id = json_is_string(id) ? strdup(json_string_value(id)) : NULL;
	a->name = strdup(json_string_value(name));
	if ((json_is_string(id) && !a->id) || !a->name) {
		author_free(a);
		return -1;
	}
	return 0;
}

static int note_from_json(json_t *o, struct note *n)
{
	memset(n, 0, sizeof(*n));
	json_t *id = json_object_get(o, "id"), *title = json_object_get(o, "title"),
	       *body = json_object_get(o, "body"), *created = json_object_get(o, "created"),
	       *updated = json_object_get(o, "updated");
	if (!json_is_integer(id) || json_integer_value(id) < 1 || !json_is_string(title) ||
	    !json_is_string(body) || !json_is_integer(created) || !json_is_integer(updated))
		return -1;
	n->id = json_integer_value(id);
	n->created = json_integer_value(created);
	n->updated = json_integer_value(updated);
	n->title = strdup(json_string_value(title));
	n->body = strdup(json_string_value(body));
	if (!n->title || !n->body ||
	    author_from_json(json_object_get(o, "created_by"), &n->created_by) < 0 ||
	    author_from_json(json_object_get(o, "updated_by"), &n->updated_by) < 0) {
		note_free(n);
		return -1;
	}
	return 0;
}

static int notebook_from_json(struct notebook *nb, json_t *root)
{
	json_t *notes = json_object_get(root, "notes"), *next = json_object_get(root, "next_id"),
	       *rev = json_object_get(root, "revision");
	if (!json_is_array(notes) || !json_is_integer(next) || !json_is_integer(rev))
		return -1;
	size_t count = json_array_size(notes);
	nb->notes = calloc(count ? count : 1, sizeof(*nb->notes));
	if (!nb->notes)
		return -1;
	nb->cap = count ? count : 1;
	nb->next_id = json_integer_value(next);
	nb->revision = json_integer_value(rev);
	for (size_t i = 0; i < count; i++) {
		struct note *n = &nb->notes[nb->n];
		if (note_from_json(json_array_get(notes, i), n) < 0)
			return -1;
		nb->n++;
		// Ids ascend in the file; next_id stays above every one of them.
		if (nb->n > 1 && n->id <= n[-1].id)
			return -1;
		if (n->id >= nb->next_id)
			nb->next_id = n->id + 1;
	}
	return 0;
}

static void notebook_clear(struct notebook *nb)
{
	for (size_t i = 0; i < nb->n; i++)
		note_free(&nb->notes[i]);
	free(nb->notes);
	nb->notes = NULL;
	nb->n = nb->cap = 0;
	nb->next_id = 1;
	nb->revision = 0;
}

// Loads the file; 1 when it is missing, 0 when loaded, -1 when it is unreadable or invalid.
static int notebook_load(struct notebook *nb, char *err, size_t errsz)
{
	int fd = open(nb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", nb->path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	struct stat st;
	json_error_t je;
	json_t *root = NULL;
	if (fstat(fd, &st) == 0 && st.st_size <= NOTEBOOK_FILE_MAX)
		root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	else
		snprintf(je.text, sizeof(je.text), "unreadable or too large");
	close(fd);
	if (!root) {
		snprintf(err, errsz, "%s: %s", nb->path, je.text);
		return -1;
	}
	int r = notebook_from_json(nb, root);
	json_decref(root);
	if (r < 0) {
		notebook_clear(nb);
		snprintf(err, errsz, "%s: not a notebook (a field is missing or mistyped)", nb->path);
	}
	return r;
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int notebook_open(struct notebook *nb, const char *dir, char *err, size_t errsz)
{
	memset(nb, 0, sizeof(*nb));
	nb->dir_fd = -1;
	nb->next_id = 1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	nb->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	nb->path = path_join(dir, NOTEBOOK_FILE);
	nb->tmp_path = path_join(dir, NOTEBOOK_FILE ".tmp");
	if (nb->dir_fd < 0 || !nb->path || !nb->tmp_path) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		notebook_close(nb);
		return -1;
	}
	unlink(nb->tmp_path);   // a save that was cut short; the real file is intact
	char why[512];
	int r = notebook_load(nb, why, sizeof(why));
	if (r < 0) {
		// Keep the bytes for a person to look at, and carry on with an empty notebook
		// rather than a grain that never starts again.
		char aside[64];
		snprintf(aside, sizeof(aside), NOTEBOOK_FILE ".corrupt-%lld", (long long)time(NULL));
		log_err("notebook_open: %s; moved aside to %s", why, aside);
		if (renameat(nb->dir_fd, NOTEBOOK_FILE, nb->dir_fd, aside) < 0) {
			snprintf(err, errsz, "%s (and could not move it aside: %s)", why, strerror(errno));
			notebook_close(nb);
			return -1;
		}
	}
	return 0;
}

void notebook_close(struct notebook *nb)
{
	notebook_clear(nb);
	free(nb->path);
	free(nb->tmp_path);
	nb->path = nb->tmp_path = NULL;
	if (nb->dir_fd >= 0)
		close(nb->dir_fd);
	nb->dir_fd = -1;
}

// --- Changes ---

static enum notebook_result check_text(const char *title, const char *body)
{
	if (strlen(title) > NOTEBOOK_MAX_TITLE || strlen(body) > NOTEBOOK_MAX_BODY)
		return NOTEBOOK_TOO_LONG;
	if (!text_utf8_valid(title, strlen(title)) || !text_utf8_valid(body, strlen(body)))
		return NOTEBOOK_BAD_TEXT;
	if (!*title && !*body)
		return NOTEBOOK_EMPTY;
	return NOTEBOOK_OK;
}

static struct note *find(const struct notebook *nb, int64_t id)
{
	size_t lo = 0, hi = nb->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (nb->notes[mid].id == id)
			return &nb->notes[mid];
		if (nb->notes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct note *notebook_get(const struct notebook *nb, int64_t id)
{
	return find(nb, id);
}

enum notebook_result notebook_add(struct notebook *nb, const char *title, const char *body,
				  const struct note_author *who, int64_t now, int64_t *id_out)
{
	enum notebook_result r = check_text(title, body);
	if (r != NOTEBOOK_OK)
		return r;
	if (nb->n >= NOTEBOOK_MAX_NOTES)
		return NOTEBOOK_FULL;
	if (nb->n == nb->cap) {
		size_t cap = nb->cap ? nb->cap * 2 : 16;
		struct note *p = realloc(nb->notes, cap * sizeof(*p));
		if (!p)
			return NOTEBOOK_NOMEM;
		nb->notes = p;
		nb->cap = cap;
	}
	struct note *n = &nb->notes[nb->n];
	memset(n, 0, sizeof(*n));
	n->id = nb->next_id;
	n->created = n->updated = now;
	n->title = strdup(title);
	n->body = strdup(body);
	if (!n->title || !n->body || author_copy(&n->created_by, who) < 0 ||
	    author_copy(&n->updated_by, who) < 0) {
		note_free(n);
		return NOTEBOOK_NOMEM;
	}
	nb->n++;
	nb->next_id++;
	nb->revision++;
	if (notebook_save(nb) < 0) {
		nb->n--;
		nb->next_id--;
		nb->revision--;
		note_free(n);
		return NOTEBOOK_IO;
	}
	*id_out = n->id;
	return NOTEBOOK_OK;
}

enum notebook_result notebook_update(struct notebook *nb, int64_t id, const char *title,
				     const char *body, const struct note_author *who, int64_t now)
{
	struct note *n = find(nb, id);
	if (!n)
		return NOTEBOOK_NOT_FOUND;
	enum notebook_result r = check_text(title ? title : n->title, body ? body : n->body);
	if (r != NOTEBOOK_OK)
		return r;
	struct note old = *n;
	struct note_author by = {0};
	char *t = strdup(title ? title : n->title), *b = strdup(body ? body : n->body);
	if (!t || !b || author_copy(&by, who) < 0) {
		free(t);
		free(b);
		return NOTEBOOK_NOMEM;
	}
	n->title = t;
	n->body = b;
	n->updated_by = by;
	n->updated = now;
	nb->revision++;
	if (notebook_save(nb) < 0) {
		*n = old;
		nb->revision--;
		free(t);
		free(b);
		author_free(&by);
		return NOTEBOOK_IO;
	}
	free(old.title);
	free(old.body);
	author_free(&old.updated_by);
	return NOTEBOOK_OK;
}

enum notebook_result notebook_delete(struct notebook *nb, int64_t id)
{
	struct note *n = find(nb, id);
	if (!n)
		return NOTEBOOK_NOT_FOUND;
	size_t i = (size_t)(n - nb->notes);
	struct note gone = *n;
	memmove(n, n + 1, (nb->n - i - 1) * sizeof(*n));
	nb->n--;
	nb->revision++;
	if (notebook_save(nb) < 0) {
		memmove(&nb->notes[i + 1], &nb->notes[i], (nb->n - i) * sizeof(*n));
		nb->notes[i] = gone;
		nb->n++;
		nb->revision--;
		return NOTEBOOK_IO;
	}
	note_free(&gone);
	return NOTEBOOK_OK;
}

// --- Views ---

static json_t *author_json(const struct note_author *a)
{
	return json_pack("{s:s?,s:s}", "id", a->id, "name", a->name ? a->name : "");
}

json_t *notebook_note_json(const struct note *n)
{
	return json_pack("{s:I,s:s,s:s,s:I,s:I,s:o,s:o}", "id", (json_int_t)n->id, "title",
			 n->title, "body", n->body, "created", (json_int_t)n->created, "updated",
			 (json_int_t)n->updated, "created_by", author_json(&n->created_by),
			 "updated_by", author_json(&n->updated_by));
}

int notebook_result_status(enum notebook_result r)
{
	switch (r) {
	case NOTEBOOK_OK: return 200;
	case NOTEBOOK_NOT_FOUND: return 404;
	case NOTEBOOK_FULL: return 409;
	case NOTEBOOK_TOO_LONG: return 413;
	case NOTEBOOK_EMPTY: return 400;
	case NOTEBOOK_BAD_TEXT: return 400;
	case NOTEBOOK_IO: return 500;
	case NOTEBOOK_NOMEM: return 500;
	}
	return 500;
}

const char *notebook_result_str(enum notebook_result r)
{
	switch (r) {
	case NOTEBOOK_OK: return "ok";
	case NOTEBOOK_NOT_FOUND: return "There is no such note; it may have been deleted.";
	case NOTEBOOK_FULL: return "The notebook is full (1000 notes). Delete a note to add another.";
	case NOTEBOOK_TOO_LONG: return "A note can have a title of up to 200 bytes and up to 64 KiB of text.";
	case NOTEBOOK_EMPTY: return "A note needs a title or some text.";
	case NOTEBOOK_BAD_TEXT: return "The text is not valid UTF-8.";
	case NOTEBOOK_IO: return "The note could not be saved (the disk may be full). Nothing was changed.";
	case NOTEBOOK_NOMEM: return "The server ran out of memory. Nothing was changed.";
	}
	return "unknown error";
}
