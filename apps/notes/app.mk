# SPDX-License-Identifier: MIT
# apps/notes: the example notes app. Included by the top Makefile; adds its packages to APPS.
#   build/apps/notes/notes        the static server binary
#   build/apps/notes/root/        the package root: /notes, /silo-manifest.json, /icon.svg
#   build/apps/notes.spk          signed with build/keys/notes.key (made once, kept)
#   build/apps/notes-v2.spk       the same tree as version 2, for upgrade tests
#   build/debug/apps/notes/notes  the ASan+UBSan build the integration test prefers under debug

NOTES_DIR := apps/notes
NOTES_SRC := $(wildcard $(NOTES_DIR)/*.c)
NOTES_STATIC := $(wildcard $(NOTES_DIR)/static/*)
NOTES_GEN := $(patsubst $(NOTES_DIR)/static/%,$(B)/gen/apps/notes/static/%.c,$(NOTES_STATIC))
NOTES_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(NOTES_SRC)) $(patsubst $(B)/%.c,$(B)/obj/%.o,$(NOTES_GEN))
NOTES_DOBJ := $(patsubst %.c,$(B)/dobj/%.o,$(NOTES_SRC)) $(patsubst $(B)/%.c,$(B)/dobj/%.o,$(NOTES_GEN))
NOTES_BIN := $(B)/apps/notes/notes
NOTES_ROOT := $(B)/apps/notes/root
NOTES_ROOT_V2 := $(B)/apps/notes/root-v2
NOTES_KEY := $(B)/keys/notes.key

# Generated sources are kept (not removed as intermediates), like the top Makefile's.
.PRECIOUS: $(B)/gen/apps/notes/static/%.c
# Each static file becomes a NUL-terminated C array: static/notes.css -> notes_static_notes_css.
$(B)/gen/apps/notes/static/%.c: $(NOTES_DIR)/static/% scripts/embed-file.py
	@mkdir -p $(@D)
	python3 scripts/embed-file.py $@ notes_static_$(subst .,_,$*) $<

$(NOTES_BIN): $(NOTES_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^ $(LIBS)
$(B)/debug/apps/notes/notes: $(NOTES_DOBJ) $(DLIB)
	@mkdir -p $(@D)
	$(CC) -fsanitize=$(SAN) -o $@ $^ $(LIBS)
debug: $(B)/debug/apps/notes/notes

# The package roots: the stripped binary, the manifest, the icon (v2 differs only in version).
$(B)/apps/notes/root.stamp: $(NOTES_BIN) $(NOTES_DIR)/silo-manifest.json $(NOTES_DIR)/static/icon.svg
	rm -rf $(NOTES_ROOT) $(NOTES_ROOT_V2)
	mkdir -p $(NOTES_ROOT)
	strip -o $(NOTES_ROOT)/notes $(NOTES_BIN)
	chmod 0755 $(NOTES_ROOT)/notes
	install -m 0644 $(NOTES_DIR)/silo-manifest.json $(NOTES_DIR)/static/icon.svg $(NOTES_ROOT)/
	cp -a $(NOTES_ROOT) $(NOTES_ROOT_V2)
	python3 -c 'import json, sys; p = sys.argv[1]; m = json.load(open(p)); \
		m.update(version=2, marketing_version="2.0"); \
		open(p, "w").write(json.dumps(m, indent=2, ensure_ascii=False) + "\n")' \
		$(NOTES_ROOT_V2)/silo-manifest.json
	touch $@

# Packing needs build/spk (server/spk/); say so plainly while it is not there yet.
NOTES_SPK_TOOL := $(if $(SPK_OBJ),$(B)/spk)
NOTES_NEED_SPK = $(if $(SPK_OBJ),,@echo "notes: build/spk is needed to pack $@ (server/spk/ is not there yet)" >&2; exit 1)

$(NOTES_KEY): | $(NOTES_SPK_TOOL)
	$(NOTES_NEED_SPK)
	@mkdir -p $(@D)
	$(B)/spk keygen $@

$(B)/apps/notes.spk: $(B)/apps/notes/root.stamp $(NOTES_KEY) $(NOTES_SPK_TOOL) $(filter $(B)/silo-bridge,$(PROGS))
	$(NOTES_NEED_SPK)
	$(B)/spk pack $(NOTES_ROOT) $(NOTES_KEY) $@
$(B)/apps/notes-v2.spk: $(B)/apps/notes/root.stamp $(NOTES_KEY) $(NOTES_SPK_TOOL) $(filter $(B)/silo-bridge,$(PROGS))
	$(NOTES_NEED_SPK)
	$(B)/spk pack $(NOTES_ROOT_V2) $(NOTES_KEY) $@

APPS += $(B)/apps/notes.spk $(B)/apps/notes-v2.spk
