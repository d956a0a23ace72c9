// SPDX-License-Identifier: MIT
// The notebook: a grain's notes in memory, saved whole to DIR/notebook.json after every
// change (temp file, fsync, rename, fsync of the directory), so a kill -9 loses nothing
// that was acknowledged.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define NOTEBOOK_MAX_NOTES 1000
#define NOTEBOOK_MAX_TITLE 200       // bytes of UTF-8
#define NOTEBOOK_MAX_BODY 65536      // bytes of UTF-8
#define NOTEBOOK_FILE "notebook.json"

struct note_author {
	char *id;     // user id, NULL for an anonymous visitor
	char *name;
};

struct note {
	int64_t id;
	char *title;   // may be ""
	char *body;    // may be "", but not both
	int64_t created, updated;   // unix seconds
	struct note_author created_by, updated_by;
};

struct notebook {
	char *path, *tmp_path;
	int dir_fd;
	struct note *notes;   // in id order
	size_t n, cap;
	int64_t next_id;
	int64_t revision;     // bumped by every change; clients poll it to notice edits
};

enum notebook_result {
	NOTEBOOK_OK = 0,
	NOTEBOOK_NOT_FOUND,
	NOTEBOOK_FULL,        // NOTEBOOK_MAX_NOTES reached
	NOTEBOOK_TOO_LONG,    // title or body over its cap
	NOTEBOOK_EMPTY,       // neither title nor body
	NOTEBOOK_BAD_TEXT,    // not UTF-8
	NOTEBOOK_IO,          // could not save: the change was undone
	NOTEBOOK_NOMEM,
};

// Opens (creating when missing) dir and loads its notebook. A file that cannot be parsed is
// moved aside to notebook.json.corrupt-<time> and the notebook starts empty. -1 with err
// set when dir is unusable.
int notebook_open(struct notebook *nb, const char *dir, char *err, size_t errsz);
void notebook_close(struct notebook *nb);

// Changes, each saved before it returns NOTEBOOK_OK. Texts must be cleaned already
// (text_clean); who->id may be NULL. notebook_update keeps a field passed as NULL.
enum notebook_result notebook_add(struct notebook *nb, const char *title, const char *body,
				  const struct note_author *who, int64_t now, int64_t *id_out);
enum notebook_result notebook_update(struct notebook *nb, int64_t id, const char *title,
				     const char *body, const struct note_author *who, int64_t now);
enum notebook_result notebook_delete(struct notebook *nb, int64_t id);

const struct note *notebook_get(const struct notebook *nb, int64_t id);
// The note as the API shows it (and as the file stores it); NULL when out of memory.
json_t *notebook_note_json(const struct note *n);
// An HTTP status and a sentence for a failed change.
int notebook_result_status(enum notebook_result r);
const char *notebook_result_str(enum notebook_result r);
