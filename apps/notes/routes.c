// SPDX-License-Identifier: MIT
// What the notes server answers: the notebook page, its forms, the JSON API, static files.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "html.h"
#include "jsonbody.h"
#include "routes.h"
#include "statics.h"
#include "text.h"
#include "util.h"
#include "view.h"

// The app's own policy; the front adds the grain's. Nothing inline, nothing from elsewhere.
#define ROUTES_CSP "default-src 'self'; img-src 'self' data:; object-src 'none'; " \
		   "base-uri 'none'; form-action 'self'"
#define ROUTES_READ_ONLY "You can view this notebook but not change it: editing needs the " \
			 "\"edit\" permission. Ask the notebook's owner for edit access."

// One request being answered.
struct ctx {
	struct app *app;
	const struct http_request *req;
	const char *body;
	size_t len;
	struct http_response *resp;
	struct identity who;
	char key[IDENTITY_ID_MAX + 3];
	int64_t now;   // unix seconds
};

// --- Small helpers ---

static bool is_get(const struct http_request *req)
{
	return req->method == HTTP_GET || req->method == HTTP_HEAD;
}

// "/notes/12/delete" after prefix "/notes/": id 12, *rest "/delete". Digits without a
// leading zero, at most 15 of them.
static bool path_id(const char *s, int64_t *id, const char **rest)
{
	size_t n = 0;
	int64_t v = 0;
	while (s[n] >= '0' && s[n] <= '9' && n < 16)
		v = v * 10 + (s[n++] - '0');
	if (!n || n > 15 || s[0] == '0')
		return false;
	*id = v;
	*rest = s + n;
	return true;
}

// The media type of Content-Type is type (parameters such as charset allowed).
static bool content_type_is(const struct http_request *req, const char *type)
{
	const char *ct = http_header(req, "Content-Type");
	size_t n = strlen(type);
	return ct && strncasecmp(ct, type, n) == 0 && (!ct[n] || ct[n] == ';' || ct[n] == ' ');
}

static void set_html(struct ctx *x, int status)
{
	x->resp->status = status;
	resp_header(x->resp, "Content-Type", "text/html; charset=utf-8");
	resp_header(x->resp, "Content-Security-Policy", ROUTES_CSP);
	resp_header(x->resp, "Cache-Control", "no-store");
}

static void page_error(struct ctx *x, int status, const char *msg)
{
	buf_reset(&x->resp->body);
	set_html(x, status);
	view_error(&x->resp->body, status, msg);
}

static void api_error(struct ctx *x, int status, const char *msg)
{
	resp_error(x->resp, status, msg);
}

static void not_allowed(struct ctx *x, const char *allow, bool api)
{
	resp_header(x->resp, "Allow", "%s", allow);
	if (api)
		api_error(x, 405, "method not allowed here");
	else
		page_error(x, 405, "This page cannot be used that way.");
}

// Checks that a change may be made: the caller holds "edit", the request is not a
// cross-site one, and the body is of the kind expected (a form post from another site
// cannot send JSON without a CORS preflight, which nothing here answers).
static bool may_change(struct ctx *x, bool api, const char *type)
{
	const char *site = http_header(x->req, "Sec-Fetch-Site");
	if (site && strcasecmp(site, "cross-site") == 0) {
		api ? api_error(x, 403, "cross-site requests cannot change notes")
		    : page_error(x, 403, "Changes must come from the notebook's own page.");
		return false;
	}
	if (!x->who.can_edit) {
		api ? api_error(x, 403, ROUTES_READ_ONLY) : page_error(x, 403, ROUTES_READ_ONLY);
		return false;
	}
	if (type && !content_type_is(x->req, type)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "send the body as %s", type);
		api ? api_error(x, 415, msg) : page_error(x, 415, "Send the form as a normal web form.");
		return false;
	}
	return true;
}

static struct note_author author_of(const struct ctx *x)
{
	struct note_author a = {x->who.anonymous ? NULL : (char *)x->who.user_id,
				(char *)x->who.name};
	return a;
}

// --- Static files ---

static void serve_static(struct ctx *x)
{
	const struct static_file *f = statics_find(x->req->path);
	if (!f) {
		page_error(x, 404, "There is no such file.");
		return;
	}
	if (!is_get(x->req)) {
		not_allowed(x, "GET, HEAD", false);
		return;
	}
	resp_header(x->resp, "Content-Type", "%s", f->type);
	resp_header(x->resp, "ETag", "%s", f->etag);
	resp_header(x->resp, "Cache-Control", "no-cache");
	const char *inm = http_header(x->req, "If-None-Match");
	if (inm && (strcmp(inm, f->etag) == 0 || strcmp(inm, "*") == 0)) {
		x->resp->status = 304;
		return;
	}
	x->resp->static_body = f->data;
	x->resp->static_len = f->len;
}

// --- The page and its forms ---

static void render(struct ctx *x, int status, const char *error, int64_t editing,
		   const char *draft_title, const char *draft_body)
{
	presence_current(&x->app->here, ev_now(x->app->loop));
	struct view v = {
		.nb = &x->app->nb, .here = &x->app->here, .who = &x->who, .self_key = x->key,
		.now = x->now, .editing = editing, .error = error, .draft_title = draft_title,
		.draft_body = draft_body,
	};
	buf_reset(&x->resp->body);
	set_html(x, status);
	view_notebook(&x->resp->body, &v);
}

// The decoded value of field name in an application/x-www-form-urlencoded body: 1 and a
// malloc'd *out when found, 0 when absent, -1 on a bad escape or NUL, -2 out of memory.
static int form_field(const char *body, size_t len, const char *name, char **out)
{
	size_t nl = strlen(name);
	const char *p = body, *end = body + len;
	*out = NULL;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ke = eq ? eq : pe;
		if ((size_t)(ke - p) == nl && memcmp(p, name, nl) == 0) {
			const char *v = eq ? eq + 1 : pe;
			size_t vl = (size_t)(pe - v);
			if (!(*out = malloc(vl + 1)))
				return -2;
			if (http_url_decode(v, vl, *out, vl + 1, true) < 0) {
				free(*out);
				*out = NULL;
				return -1;
			}
			return 1;
		}
		if (!amp)
			break;   // pe + 1 would point past the end of the body
		p = amp + 1;
	}
	return 0;
}

// A form's title and body, decoded and cleaned (missing fields are ""). 0, or an HTTP
// status with *why set.
static int form_note(struct ctx *x, char **title, char **body, const char **why)
{
	char *raw[2] = {NULL, NULL};
	const char *names[2] = {"title", "body"};
	char *clean[2] = {NULL, NULL};
	int status = 0;
	for (int i = 0; i < 2 && !status; i++) {
		int r = form_field(x->body, x->len, names[i], &raw[i]);
		if (r == -2) {
			status = 500;
			*why = "The server ran out of memory.";
		} else if (r == -1 || (r == 1 && !text_utf8_valid(raw[i], strlen(raw[i])))) {
			status = 400;
			*why = "The form could not be read: the text is not valid UTF-8.";
		} else if (!(clean[i] = text_clean(raw[i] ? raw[i] : "", raw[i] ? strlen(raw[i]) : 0,
						   i == 0))) {
			status = 500;
			*why = "The server ran out of memory.";
		}
	}
	free(raw[0]);
	free(raw[1]);
	if (status) {
		free(clean[0]);
		free(clean[1]);
		return status;
	}
	*title = clean[0];
	*body = clean[1];
	return 0;
}

static void redirect_to_note(struct ctx *x, int64_t id)
{
	char loc[48];
	if (id)
		snprintf(loc, sizeof(loc), "/#note-%lld", (long long)id);
	else
		snprintf(loc, sizeof(loc), "/");
	resp_redirect(x->resp, 303, loc);
	resp_header(x->resp, "Cache-Control", "no-store");
}

// POST /notes (id 0: a new note) and POST /notes/<id>: save, then back to the page.
static void form_save(struct ctx *x, int64_t id)
{
	if (!may_change(x, false, "application/x-www-form-urlencoded"))
		return;
	if (id && !notebook_get(&x->app->nb, id)) {
		page_error(x, 404, notebook_result_str(NOTEBOOK_NOT_FOUND));
		return;
	}
	char *title = NULL, *body = NULL;
	const char *why = NULL;
	int status = form_note(x, &title, &body, &why);
	if (status) {
		render(x, status, why, id, NULL, NULL);
		return;
	}
	struct note_author by = author_of(x);
	enum notebook_result r;
	int64_t new_id = id;
	if (id)
		r = notebook_update(&x->app->nb, id, title, body, &by, x->now);
	else
		r = notebook_add(&x->app->nb, title, body, &by, x->now, &new_id);
	if (r == NOTEBOOK_OK)
		redirect_to_note(x, new_id);
	else // show the page again with what they typed, so nothing is lost
		render(x, notebook_result_status(r), notebook_result_str(r), id, title, body);
	free(title);
	free(body);
}

static void form_delete(struct ctx *x, int64_t id)
{
	// A delete button posts an empty form; browsers label it as a form all the same.
	if (!may_change(x, false, "application/x-www-form-urlencoded"))
		return;
	enum notebook_result r = notebook_delete(&x->app->nb, id);
	if (r != NOTEBOOK_OK) {
		page_error(x, notebook_result_status(r), notebook_result_str(r));
		return;
	}
	redirect_to_note(x, 0);
}

// GET /?edit=<id> shows that note as a form (editors only).
static int64_t query_edit(const char *query)
{
	int64_t id;
	const char *rest;
	if (strncmp(query, "edit=", 5) == 0 && path_id(query + 5, &id, &rest) &&
	    (!*rest || *rest == '&'))
		return id;
	return 0;
}

static void pages(struct ctx *x)
{
	const char *p = x->req->path;
	int64_t id;
	const char *rest;
	if (strcmp(p, "/") == 0) {
		if (!is_get(x->req)) {
			not_allowed(x, "GET, HEAD", false);
			return;
		}
		render(x, 200, NULL, x->who.can_edit ? query_edit(x->req->query) : 0, NULL, NULL);
		return;
	}
	if (strcmp(p, "/notes") == 0) {
		if (x->req->method != HTTP_POST) {
			not_allowed(x, "POST", false);
			return;
		}
		form_save(x, 0);
		return;
	}
	if (strncmp(p, "/notes/", 7) == 0 && path_id(p + 7, &id, &rest)) {
		if (!*rest || strcmp(rest, "/delete") == 0) {
			if (x->req->method != HTTP_POST) {
				not_allowed(x, "POST", false);
				return;
			}
			if (*rest)
				form_delete(x, id);
			else
				form_save(x, id);
			return;
		}
	}
	page_error(x, 404, "There is no such page in this notebook.");
}

// --- The JSON API ---

// A text field of a JSON body: 0 and *out (malloc'd and cleaned, NULL when absent), or an
// HTTP status with msg set.
static int api_text(json_t *o, const char *key, size_t max, bool single_line, char **out,
		    char *msg, size_t msgsz)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(msg, msgsz, "'%s' must be a string", key);
		return 400;
	}
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > max) {
		snprintf(msg, msgsz, "'%s' is longer than %zu bytes", key, max);
		return 413;
	}
	if (memchr(s, '\0', n)) {
		snprintf(msg, msgsz, "'%s' must not contain NUL characters", key);
		return 400;
	}
	if (!(*out = text_clean(s, n, single_line))) {
		snprintf(msg, msgsz, "out of memory");
		return 500;
	}
	return 0;
}

static void api_note(struct ctx *x, int status, int64_t id)
{
	const struct note *n = notebook_get(&x->app->nb, id);
	if (!n) {
		api_error(x, 404, "no such note");
		return;
	}
	resp_json(x->resp, status, notebook_note_json(n));
}

// POST /api/notes (id 0) and PUT /api/notes/<id> (fields left out stay as they are).
static void api_save(struct ctx *x, int64_t id)
{
	if (!may_change(x, true, "application/json"))
		return;
	if (id && !notebook_get(&x->app->nb, id)) {
		api_error(x, 404, "no such note");
		return;
	}
	char msg[256];
	json_t *o = jsonbody_parse(x->len ? x->body : "", x->len, msg, sizeof(msg));
	if (!o) {
		api_error(x, 400, msg);
		return;
	}
	char *title = NULL, *body = NULL;
	int status = api_text(o, "title", NOTEBOOK_MAX_TITLE, true, &title, msg, sizeof(msg));
	if (!status)
		status = api_text(o, "body", NOTEBOOK_MAX_BODY, false, &body, msg, sizeof(msg));
	json_decref(o);
	if (status) {
		free(title);
		free(body);
		api_error(x, status, msg);
		return;
	}
	struct note_author by = author_of(x);
	enum notebook_result r;
	int64_t new_id = id;
	if (id)
		r = notebook_update(&x->app->nb, id, title, body, &by, x->now);
	else
		r = notebook_add(&x->app->nb, title ? title : "", body ? body : "", &by, x->now,
				 &new_id);
	free(title);
	free(body);
	if (r != NOTEBOOK_OK) {
		api_error(x, notebook_result_status(r), notebook_result_str(r));
		return;
	}
	if (!id)
		resp_header(x->resp, "Location", "/api/notes/%lld", (long long)new_id);
	api_note(x, id ? 200 : 201, new_id);
}

static void api_list(struct ctx *x)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < x->app->nb.n; i++)
		if (json_array_append_new(arr, notebook_note_json(&x->app->nb.notes[i])) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	resp_json(x->resp, 200, json_pack("{s:o*,s:I,s:b}", "notes", arr, "revision",
					  (json_int_t)x->app->nb.revision, "can_edit",
					  x->who.can_edit));
}

static void api_presence(struct ctx *x)
{
	struct presence *here = &x->app->here;
	presence_current(here, ev_now(x->app->loop));
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < here->n; i++) {
		char initial[8];
		text_initial(here->e[i].name, initial);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:b,s:b,s:b}", "name",
						     here->e[i].name, "initial", initial, "hue",
						     view_hue(here->e[i].key), "you",
						     strcmp(here->e[i].key, x->key) == 0, "can_edit",
						     here->e[i].can_edit, "anonymous",
						     here->e[i].anonymous));
	}
	struct buf text;
	buf_init(&text);
	presence_text(here, x->key, &text);
	resp_json(x->resp, 200, json_pack("{s:o*,s:s?,s:I}", "here", arr, "text", buf_cstr(&text),
					  "revision", (json_int_t)x->app->nb.revision));
	buf_free(&text);
}

static void api_whoami(struct ctx *x)
{
	json_t *perms = json_array();
	for (size_t i = 0; perms && i < x->who.nperms; i++)
		json_array_append_new(perms, json_string(x->who.perms[i]));
	resp_json(x->resp, 200,
		  json_pack("{s:s?,s:s,s:b,s:o*,s:b,s:s?}", "user_id",
			    x->who.anonymous ? NULL : x->who.user_id, "name", x->who.name,
			    "anonymous", x->who.anonymous, "permissions", perms, "can_edit",
			    x->who.can_edit, "session_id",
			    x->who.session_id[0] ? x->who.session_id : NULL));
}

static void api(struct ctx *x)
{
	const char *p = x->req->path;
	enum http_method m = x->req->method;
	int64_t id;
	const char *rest;
	if (strcmp(p, "/api/notes") == 0) {
		if (is_get(x->req)) {
			api_list(x);
			return;
		}
		if (m == HTTP_POST) {
			api_save(x, 0);
			return;
		}
		not_allowed(x, "GET, HEAD, POST", true);
		return;
	}
	if (strncmp(p, "/api/notes/", 11) == 0 && path_id(p + 11, &id, &rest) && !*rest) {
		if (is_get(x->req)) {
			api_note(x, 200, id);
			return;
		}
		if (m == HTTP_PUT) {
			api_save(x, id);
			return;
		}
		if (m != HTTP_DELETE) {
			not_allowed(x, "GET, HEAD, PUT, DELETE", true);
			return;
		}
		if (!may_change(x, true, NULL))
			return;
		enum notebook_result r = notebook_delete(&x->app->nb, id);
		if (r != NOTEBOOK_OK) {
			api_error(x, notebook_result_status(r), notebook_result_str(r));
			return;
		}
		x->resp->status = 204;
		return;
	}
	if (strcmp(p, "/api/presence") == 0 || strcmp(p, "/api/whoami") == 0) {
		if (!is_get(x->req)) {
			not_allowed(x, "GET, HEAD", true);
			return;
		}
		if (p[5] == 'p')
			api_presence(x);
		else
			api_whoami(x);
		return;
	}
	api_error(x, 404, "no such API endpoint");
}

// --- Entry points ---

void routes_handle(struct app *app, const struct http_request *req, const char *body,
		   size_t len, struct http_response *resp)
{
	struct ctx x = {.app = app, .req = req, .body = body, .len = len, .resp = resp,
			.now = util_unix_now()};
	identity_from_request(req, &x.who);
	identity_key(&x.who, x.key, sizeof(x.key));
	if (strncmp(req->path, "/static/", 8) == 0) {
		serve_static(&x);
		return;
	}
	// Everything else is someone using the notebook: they are here.
	presence_touch(&app->here, &x.who, ev_now(app->loop));
	if (strncmp(req->path, "/api/", 5) == 0 || strcmp(req->path, "/api") == 0) {
		api(&x);
		return;
	}
	pages(&x);
}

void routes_error(const struct http_request *req, int status, struct http_response *resp)
{
	const char *msg = status == 413 ? "The request is too large: a note can hold up to 64 KiB "
					  "of text."
					: http_reason(status);
	if (!req || strncmp(req->path, "/api/", 5) == 0) {
		resp_error(resp, status, msg);
		return;
	}
	struct ctx x = {.req = req, .resp = resp};
	page_error(&x, status, msg);
}
