# SPDX-License-Identifier: MIT
# apps/radicale: Debian's Radicale (CalDAV/CardDAV, Python), packaged by tracing it.
# Included by the top Makefile; adds its package to APPS.
#   build/apps/radicale/root/   the package root, written by apps/radicale/trace.sh, which
#                               runs `build/spk trace` on the launcher while exercise.py
#                               drives it (needs Debian's python3-radicale, python3-caldav)
#   build/apps/radicale.spk     signed with build/keys/radicale.key (made once, kept)

RADICALE_DIR := apps/radicale
RADICALE_ROOT := $(B)/apps/radicale/root
RADICALE_KEY := $(B)/keys/radicale.key
RADICALE_SRC := $(addprefix $(RADICALE_DIR)/,trace.sh exercise.py silo-radicale.py \
	silo-manifest.json include.txt exclude.txt)

# Tracing and packing need build/spk (server/spk/); say so plainly while it is not there.
RADICALE_SPK_TOOL := $(if $(SPK_OBJ),$(B)/spk)
RADICALE_NEED_SPK = $(if $(SPK_OBJ),,@echo "radicale: build/spk is needed for $@ \
	(server/spk/ is not there yet)" >&2; exit 1)

# The root is traced again when the tracer or the app's files change; scripts/deps.sh
# (the deps step) installs python3-radicale and python3-caldav first.
$(B)/apps/radicale/root.stamp: $(RADICALE_SRC) $(RADICALE_SPK_TOOL) | $(DEPS_STAMP)
	$(RADICALE_NEED_SPK)
	@mkdir -p $(@D)
	$(RADICALE_DIR)/trace.sh $(B)/spk $(RADICALE_ROOT)
	touch $@

$(RADICALE_KEY): | $(RADICALE_SPK_TOOL)
	$(RADICALE_NEED_SPK)
	@mkdir -p $(@D)
	$(B)/spk keygen $@

$(B)/apps/radicale.spk: $(B)/apps/radicale/root.stamp $(RADICALE_KEY) $(RADICALE_SPK_TOOL) \
		$(filter $(B)/silo-bridge,$(PROGS))
	$(RADICALE_NEED_SPK)
	$(B)/spk pack $(RADICALE_ROOT) $(RADICALE_KEY) $@

APPS += $(B)/apps/radicale.spk
