# SPDX-License-Identifier: MIT
# apps/probe: the sandbox test app. Included by the top Makefile; adds its package to APPS.
#   build/apps/probe/probe        the static binary (self-contained: no libsilo, no libs)
#   build/apps/probe/root/        the package root: /probe, /silo-manifest.json
#   build/apps/probe.spk          signed with build/keys/probe.key (made once, kept)
# The sandbox unit tests run the binary (PROBE_BIN), so building them builds it first.

PROBE_DIR := apps/probe
PROBE_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard $(PROBE_DIR)/*.c))
PROBE_BIN := $(B)/apps/probe/probe
PROBE_ROOT := $(B)/apps/probe/root
PROBE_KEY := $(B)/keys/probe.key

$(PROBE_BIN): $(PROBE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^

$(B)/tests/test_sandbox $(B)/debug/tests/test_sandbox: | $(PROBE_BIN)

$(B)/apps/probe/root.stamp: $(PROBE_BIN) $(PROBE_DIR)/silo-manifest.json
	rm -rf $(PROBE_ROOT)
	mkdir -p $(PROBE_ROOT)
	strip -o $(PROBE_ROOT)/probe $(PROBE_BIN)
	chmod 0755 $(PROBE_ROOT)/probe
	install -m 0644 $(PROBE_DIR)/silo-manifest.json $(PROBE_ROOT)/
	touch $@

# Packing needs build/spk (server/spk/); say so plainly while it is not there yet.
PROBE_SPK_TOOL := $(if $(SPK_OBJ),$(B)/spk)
PROBE_NEED_SPK = $(if $(SPK_OBJ),,@echo "probe: build/spk is needed to pack $@ (server/spk/ is not there yet)" >&2; exit 1)

$(PROBE_KEY): | $(PROBE_SPK_TOOL)
	$(PROBE_NEED_SPK)
	@mkdir -p $(@D)
	$(B)/spk keygen $@

$(B)/apps/probe.spk: $(B)/apps/probe/root.stamp $(PROBE_KEY) $(PROBE_SPK_TOOL) $(filter $(B)/silo-bridge,$(PROGS))
	$(PROBE_NEED_SPK)
	$(B)/spk pack $(PROBE_ROOT) $(PROBE_KEY) $@

APPS += $(B)/apps/probe.spk
