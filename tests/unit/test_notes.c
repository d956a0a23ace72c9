// SPDX-License-Identifier: MIT
// Unit tests for the notes app's pure parts: text helpers, identity headers, presence, and
// the notebook store (atomic saves, undo on a failed save, reload, corrupt files). The
// app's files are compiled in here, as the unit rule links only build/libsilo.a.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../apps/notes/identity.c"
#include "../../apps/notes/notebook.c"
#include "../../apps/notes/presence.c"
#include "../../apps/notes/text.c"
#include "test.h"

// CHECK_STR for char arrays (which are never NULL).
#define CHECK_EQ(a, b, ...) CHECK(strcmp((a), (b)) == 0, __VA_ARGS__)

static void test_utf8(void)
{
	CHECK(text_utf8_valid("plain", 5), "utf8: ASCII");
	CHECK(text_utf8_valid("\xc3\xa5\xe2\x82\xac\xf0\x9f\x93\x9d", 9), "utf8: 2, 3 and 4 bytes");
	CHECK(!text_utf8_valid("\xc0\xaf", 2), "utf8: overlong 2-byte refused");
	CHECK(!text_utf8_valid("\xe0\x80\xaf", 3), "utf8: overlong 3-byte refused");
	CHECK(!text_utf8_valid("\xed\xa0\x80", 3), "utf8: surrogate refused");
	CHECK(!text_utf8_valid("\xf4\x90\x80\x80", 4), "utf8: past U+10FFFF refused");
	CHECK(!text_utf8_valid("\xe2\x82", 2), "utf8: truncated sequence refused");
	CHECK(!text_utf8_valid("a\0b", 3), "utf8: NUL refused");
	CHECK(!text_utf8_valid("\xff", 1), "utf8: 0xff refused");
}

static void test_clean(void)
{
	char *s = text_clean("  \r\nMilk\r\nEggs\rBread\x01\x7f\t end \n\n", 31, false);
	CHECK_STR(s, "Milk\nEggs\nBread\t end", "clean: CRLF and CR become LF, controls dropped, trimmed");
	free(s);
	s = text_clean(" Two\nlines\tand tab ", 19, true);
	CHECK_STR(s, "Two lines and tab", "clean: single line turns LF and TAB into spaces");
	free(s);
	s = text_clean(" \r\n\t ", 5, false);
	CHECK_STR(s, "", "clean: only whitespace becomes empty");
	free(s);
}

static void test_ago(void)
{
	char b[32];
	text_ago(b, sizeof(b), 1000, 1010);
	CHECK_EQ(b, "just now", "ago: seconds are just now");
	text_ago(b, sizeof(b), 1000, 1000 + 130);
	CHECK_EQ(b, "2 min ago", "ago: minutes");
	text_ago(b, sizeof(b), 1000, 1000 + 7300);
	CHECK_EQ(b, "2 h ago", "ago: hours");
	text_ago(b, sizeof(b), 1000, 1000 + 90000);
	CHECK_EQ(b, "yesterday", "ago: yesterday");
	text_ago(b, sizeof(b), 1000, 1000 + 3 * 86400 + 5);
	CHECK_EQ(b, "3 days ago", "ago: days");
	text_ago(b, sizeof(b), 1577836800, 1577836800 + 30 * 86400);
	CHECK_EQ(b, "1 Jan 2020", "ago: a date after a week");
	char i[8];
	text_initial("ada", i);
	CHECK_EQ(i, "A", "initial: upper-cased ASCII");
	text_initial("\xc3\x85sa", i);
	CHECK_EQ(i, "\xc3\x85", "initial: a whole UTF-8 character");
	text_initial("", i);
	CHECK_EQ(i, "?", "initial: empty name");
}

static int parse(const char *raw, struct http_request *req)
{
	return http_parse_head(raw, strlen(raw), req);
}

static void test_identity(void)
{
	struct http_request req;
	struct identity id;
	char key[160];
	CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Sandstorm-User-Id: abc123\r\n"
		    "X-Sandstorm-Username: Ada%20Lovel%C3%A5ce\r\n"
		    "X-Sandstorm-Permissions: edit, admin ,,bad perm!,\r\n"
		    "X-Sandstorm-Session-Id: s1\r\n\r\n", &req) == HTTP_PARSE_OK, "identity: parse");
	identity_from_request(&req, &id);
	CHECK(!id.anonymous && strcmp(id.user_id, "abc123") == 0, "identity: user id");
	CHECK_EQ(id.name, "Ada Lovel\xc3\xa5" "ce", "identity: name percent-decoded");
	CHECK(id.nperms == 2 && strcmp(id.perms[0], "edit") == 0 && strcmp(id.perms[1], "admin") == 0,
	      "identity: permissions split, trimmed, bad tokens skipped");
	CHECK(id.can_edit, "identity: edit permission");
	identity_key(&id, key, sizeof(key));
	CHECK_EQ(key, "u:abc123", "identity: key from the user id");
	http_request_free(&req);

	CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Sandstorm-Permissions: editor\r\n"
		    "X-Sandstorm-Username: %ZZ\r\nX-Sandstorm-Session-Id: s9\r\n\r\n", &req) ==
	      HTTP_PARSE_OK, "identity: parse anonymous");
	identity_from_request(&req, &id);
	CHECK(id.anonymous && !id.can_edit, "identity: no user id is anonymous; editor is not edit");
	CHECK_EQ(id.name, "Anonymous", "identity: a bad name falls back");
	identity_key(&id, key, sizeof(key));
	CHECK_EQ(key, "s:s9", "identity: anonymous key from the session");
	http_request_free(&req);

	CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Sandstorm-User-Id: a b\r\n"
		    "X-Sandstorm-Username: %E2%80%AEevil%0A%07\r\n\r\n", &req) == HTTP_PARSE_OK,
	      "identity: parse odd values");
	identity_from_request(&req, &id);
	CHECK(id.anonymous, "identity: a user id with a space is not trusted");
	CHECK_EQ(id.name, "\xe2\x80\xae" "evil", "identity: control characters dropped from names");
	http_request_free(&req);
}

static void who(struct identity *id, const char *uid, const char *name, bool edit)
{
	memset(id, 0, sizeof(*id));
	id->anonymous = !uid;
	snprintf(id->user_id, sizeof(id->user_id), "%s", uid ? uid : "");
	snprintf(id->name, sizeof(id->name), "%s", name);
	id->can_edit = edit;
}

static const char *here_text(struct presence *p, const char *self)
{
	static struct buf b;
	buf_reset(&b);
	presence_text(p, self, &b);
	return buf_cstr(&b);
}

static void test_presence(void)
{
	static struct presence p;
	struct identity a, g, t, h;
	who(&a, "a", "Ada", true);
	who(&g, "g", "Grace", false);
	who(&t, "t", "Alan", true);
	who(&h, "h", "Hedy", true);
	CHECK_STR(here_text(&p, "u:a"), "Nobody else is here", "presence: empty");
	presence_touch(&p, &a, 1000);
	presence_current(&p, 1000);
	CHECK_STR(here_text(&p, "u:a"), "Only you are here", "presence: only you");
	CHECK_STR(here_text(&p, "u:zz"), "Ada is here", "presence: one other");
	presence_touch(&p, &g, 2000);
	presence_current(&p, 2000);
	CHECK_STR(here_text(&p, "u:a"), "You and Grace are here", "presence: you and one");
	CHECK_STR(here_text(&p, "u:zz"), "Grace and Ada are here", "presence: two, newest first");
	presence_touch(&p, &t, 2000);
	presence_touch(&p, &h, 2000);
	presence_current(&p, 2000);
	CHECK_STR(here_text(&p, "u:a"), "You, Hedy, Alan and Grace are here",
		  "presence: three others are all named");
	CHECK_STR(here_text(&p, "u:zz"), "Hedy, Alan, Grace and Ada are here",
		  "presence: four people are all named");
	struct identity e;
	who(&e, "e", "Emmy", false);
	presence_touch(&p, &e, 2000);
	presence_current(&p, 2000);
	CHECK_STR(here_text(&p, "u:zz"), "Emmy, Hedy, Alan and 2 others are here",
		  "presence: many people: and N others");
	presence_touch(&p, &a, 1000 + PRESENCE_WINDOW_MS + 500);
	CHECK(presence_current(&p, 2000 + PRESENCE_WINDOW_MS + 1) == 1,
	      "presence: people not seen for the window are dropped");
	presence_touch(&p, &a, 40000);
	CHECK(p.n == 1, "presence: a second request does not add a row");
	for (int i = 0; i < PRESENCE_MAX + 10; i++) {
		char id[16];
		snprintf(id, sizeof(id), "x%d", i);
		who(&e, id, "Many", false);
		presence_touch(&p, &e, 50000);
	}
	CHECK(p.n == PRESENCE_MAX, "presence: the table stays within its cap");
}

static char *tmp_dir(void)
{
	char tmpl[] = "/tmp/notes-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static int count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	char p[512];
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void test_notebook(void)
{
	char *dir = tmp_dir();
	char err[256];
	struct notebook nb;
	struct note_author ada = {"a1", "Ada"}, anon = {NULL, "Anonymous"};
	int64_t id = 0, id2 = 0;
	CHECK(notebook_open(&nb, dir, err, sizeof(err)) == 0 && nb.n == 0, "notebook: opens empty");
	CHECK(notebook_add(&nb, "Title", "Body", &ada, 100, &id) == NOTEBOOK_OK && id == 1,
	      "notebook: add");
	CHECK(notebook_add(&nb, "", "only body", &anon, 101, &id2) == NOTEBOOK_OK && id2 == 2,
	      "notebook: add without a title, anonymously");
	CHECK(notebook_add(&nb, "", "", &ada, 1, &id) == NOTEBOOK_EMPTY, "notebook: empty refused");
	char *big = malloc(NOTEBOOK_MAX_BODY + 2);
	memset(big, 'x', NOTEBOOK_MAX_BODY + 1);
	big[NOTEBOOK_MAX_BODY + 1] = '\0';
	CHECK(notebook_add(&nb, "t", big, &ada, 1, &id) == NOTEBOOK_TOO_LONG,
	      "notebook: a body over 64 KiB refused");
	big[NOTEBOOK_MAX_BODY] = '\0';
	CHECK(notebook_add(&nb, "t", big, &ada, 1, &id) == NOTEBOOK_OK && id == 3,
	      "notebook: a body of exactly 64 KiB accepted");
	free(big);
	CHECK(notebook_add(&nb, "\xff", "b", &ada, 1, &id) == NOTEBOOK_BAD_TEXT,
	      "notebook: invalid UTF-8 refused");
	CHECK(notebook_update(&nb, 1, NULL, "New body", &anon, 200) == NOTEBOOK_OK,
	      "notebook: update one field");
	const struct note *n = notebook_get(&nb, 1);
	CHECK(n && strcmp(n->title, "Title") == 0 && strcmp(n->body, "New body") == 0 &&
	      n->updated == 200 && n->created == 100 && !n->updated_by.id &&
	      strcmp(n->created_by.id, "a1") == 0, "notebook: update keeps the rest, records who");
	CHECK(notebook_update(&nb, 99, "x", "y", &ada, 1) == NOTEBOOK_NOT_FOUND,
	      "notebook: update of a missing note");
	CHECK(notebook_delete(&nb, 3) == NOTEBOOK_OK && !notebook_get(&nb, 3),
	      "notebook: delete");
	CHECK(notebook_delete(&nb, 3) == NOTEBOOK_NOT_FOUND, "notebook: delete twice");
	int64_t rev = nb.revision;

	// A save that fails leaves the notebook as it was.
	char *real_tmp = nb.tmp_path;
	nb.tmp_path = (char *)"/nonexistent-dir/notebook.json.tmp";
	CHECK(notebook_add(&nb, "lost", "x", &ada, 1, &id) == NOTEBOOK_IO && nb.n == 2 &&
	      nb.revision == rev, "notebook: a failed save undoes an add");
	CHECK(notebook_update(&nb, 1, "lost", NULL, &ada, 1) == NOTEBOOK_IO &&
	      strcmp(notebook_get(&nb, 1)->title, "Title") == 0 &&
	      notebook_get(&nb, 1)->updated_by.id == NULL, "notebook: a failed save undoes an update");
	CHECK(notebook_delete(&nb, 1) == NOTEBOOK_IO && notebook_get(&nb, 1) && nb.n == 2 &&
	      nb.notes[0].id == 1, "notebook: a failed save undoes a delete");
	nb.tmp_path = real_tmp;
	notebook_close(&nb);

	CHECK(notebook_open(&nb, dir, err, sizeof(err)) == 0 && nb.n == 2 && nb.revision == rev,
	      "notebook: reopens with everything saved");
	n = notebook_get(&nb, 2);
	CHECK(n && strcmp(n->body, "only body") == 0 && !n->created_by.id &&
	      strcmp(n->created_by.name, "Anonymous") == 0, "notebook: fields survive a reload");
	CHECK(notebook_add(&nb, "after", "reload", &ada, 300, &id) == NOTEBOOK_OK && id == 4,
	      "notebook: ids are never reused");
	CHECK(count_files(dir, "notebook.json.tmp") == 0, "notebook: no temp file left");
	notebook_close(&nb);

	char path[512];
	snprintf(path, sizeof(path), "%s/notebook.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"format\":1,\"next_id\":3,\"revision\":1,\"notes\":[{\"id\":1}]}", f);
	fclose(f);
	CHECK(notebook_open(&nb, dir, err, sizeof(err)) == 0 && nb.n == 0 &&
	      count_files(dir, "notebook.json.corrupt-") == 1,
	      "notebook: an invalid file is moved aside and the notebook starts empty");
	notebook_close(&nb);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	test_utf8();
	test_clean();
	test_ago();
	test_identity();
	test_presence();
	test_notebook();
	return test_done();
}
