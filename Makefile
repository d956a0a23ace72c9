# SPDX-License-Identifier: MIT
# silo: one non-recursive Makefile. `make` builds static binaries into build/,
# `make debug` the ASan+UBSan variant into build/debug/, `make check` runs every test.

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
B := build
DEPS := $(B)/deps

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE $(WARN) -I server -I init -I $(B)/gen -I $(DEPS)/include -MMD -MP
CFLAGS ?= -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS_STATIC := -static -Wl,-z,relro -Wl,-z,now
LIBS := -L$(DEPS)/lib -lcurl -lmbedtls -lmbedx509 -lmbedcrypto -lkmod -llzma -ljansson -lsqlite3 -lsodium -lseccomp -lcap \
	-lpthread -ldl -lm

# The sanitizer variant links dynamically (ASan cannot be static) and lives in build/debug/.
SAN ?= address,undefined
DCFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SAN) -fno-sanitize-recover=all

SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
GEN_SRC := $(B)/gen/assets.c $(B)/gen/default_conf.c
ASSETS := $(sort $(wildcard server/assets/*))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

OBJ := $(patsubst %.c,$(B)/obj/%.o,$(SERVER_SRC) $(GEN_SRC:$(B)/%=%))
DOBJ := $(patsubst %.c,$(B)/dobj/%.o,$(SERVER_SRC) $(GEN_SRC:$(B)/%=%))
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
DUNIT_BIN := $(patsubst tests/unit/%.c,$(B)/debug/tests/%,$(UNIT_SRC))
DEPS_STAMP := $(DEPS)/.ready
# Programs beyond silo: server/<dir>/*.c holds each one's main and private files.
SPK_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard server/spk/*.c))
BRIDGE_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard server/bridge/*.c))
# The shipped bridge, every grain's PID 1, links musl (Debian's musl-tools): any static glibc
# program maps about 650 KiB of libc text, ten times what the bridge needs. It uses only
# these modules of the server; the glibc objects above serve its sanitizer build and tests.
MUSLCC ?= musl-gcc
BRIDGE_MSRC := $(wildcard server/bridge/*.c) $(addprefix server/,buf.c ev.c http.c \
	http_resp.c log.c util.c wire.c)
BRIDGE_MOBJ := $(patsubst %.c,$(B)/mobj/%.o,$(BRIDGE_MSRC))
# silo-init (init/): the appliance's PID 1; its modules but main also go into an archive the
# unit tests link.
INIT_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(filter-out init/main.c,$(wildcard init/*.c)))
INIT_LIB := $(B)/libsiloinit.a
DINIT_LIB := $(B)/debug/libsiloinit.a
# silo-ostool: the build machine's OS update signer (server/ostool/).
OSTOOL_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard server/ostool/*.c))
PROGS := $(B)/silo $(if $(SPK_OBJ),$(B)/spk) $(if $(BRIDGE_OBJ),$(B)/silo-bridge) $(B)/silo-init \
	$(B)/silo-ostool
DPROGS := $(filter-out $(B)/debug/silo-init $(B)/debug/silo-ostool,$(PROGS:$(B)/%=$(B)/debug/%))

# Keep intermediate objects so make never prints after the test summary.
.PRECIOUS: $(B)/obj/%.o $(B)/dobj/%.o $(B)/mobj/%.o $(B)/gen/%.c

.PHONY: all apps deps debug check unit run dev fuzz bench bench-boot clean distclean image qemu-check

# The appliance image: `make image KERNEL=6.1|6.12` (6.12 is the default, copied to silo.img).
KERNEL ?= 6.12
DEFAULT_KERNEL := 6.12
all: $(PROGS)

# The dependency step runs once per make invocation; it is quick when nothing is missing.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh scripts/deps-curl.sh scripts/deps-kmod.sh
	scripts/deps.sh
	touch $@

$(B)/gen/assets.c: scripts/embed-assets.py $(ASSETS)
	@mkdir -p $(@D)
	python3 scripts/embed-assets.py $@ $(ASSETS)

$(B)/gen/default_conf.c: scripts/embed-file.py config/silo.conf
	@mkdir -p $(@D)
	python3 scripts/embed-file.py $@ config_default_text config/silo.conf

$(B)/obj/gen/%.o: $(B)/gen/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -c $< -o $@
$(B)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -c $< -o $@
$(B)/mobj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSLCC) -std=c17 -D_GNU_SOURCE $(WARN) -I server -MMD -MP -O2 -g -fstack-protector-strong \
		-ffunction-sections -fdata-sections -c $< -o $@
$(B)/dobj/gen/%.o: $(B)/gen/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(DCFLAGS) -c $< -o $@
$(B)/dobj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(DCFLAGS) -c $< -o $@

# Every program links the server's modules from one archive, so each pulls in only the
# objects it uses (silo-bridge stays small).
LIB := $(B)/libsilo.a
DLIB := $(B)/debug/libsilo.a
$(LIB): $(OBJ)
	@rm -f $@
	ar rcs $@ $^
$(DLIB): $(DOBJ)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(INIT_LIB): $(INIT_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(DINIT_LIB): $(INIT_OBJ:$(B)/obj/%=$(B)/dobj/%)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^
$(B)/silo-init: $(B)/obj/init/main.o $(INIT_LIB) $(LIB)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^ $(LIBS)

$(B)/silo: $(B)/obj/server/main.o $(LIB)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^ $(LIBS)
$(B)/debug/silo: $(B)/dobj/server/main.o $(DLIB)
	@mkdir -p $(@D)
	$(CC) -fsanitize=$(SAN) -o $@ $^ $(LIBS)

$(B)/spk: $(SPK_OBJ) $(LIB)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^ $(LIBS)
$(B)/silo-ostool: $(OSTOOL_OBJ) $(LIB)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^ $(LIBS)
$(B)/silo-bridge: $(BRIDGE_MOBJ)
	$(MUSLCC) $(LDFLAGS_STATIC) -Wl,--gc-sections -o $@ $^
$(B)/debug/spk: $(SPK_OBJ:$(B)/obj/%=$(B)/dobj/%) $(DLIB)
	$(CC) -fsanitize=$(SAN) -o $@ $^ $(LIBS)
# The bridge runs inside sandboxes, where no shared library exists: the debug server uses
# the static one (the bridge's own tests run it under the sanitizers elsewhere).
$(B)/debug/silo-bridge: $(B)/silo-bridge
	@mkdir -p $(@D)
	cp $< $@.tmp && mv $@.tmp $@
$(B)/debug/silo-bridge-asan: $(BRIDGE_OBJ:$(B)/obj/%=$(B)/dobj/%) $(DLIB)
	$(CC) -fsanitize=$(SAN) -o $@ $^ $(LIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(INIT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_STATIC) -o $@ $^ $(LIBS)
$(B)/debug/tests/%: $(B)/dobj/tests/unit/%.o $(DINIT_LIB) $(DLIB)
	@mkdir -p $(@D)
	$(CC) -fsanitize=$(SAN) -o $@ $^ $(LIBS)

# Example apps: apps/<name>/app.mk adds its package to APPS.
APPS :=
-include $(wildcard apps/*/app.mk)
apps: $(APPS)

debug: $(DPROGS) $(if $(BRIDGE_OBJ),$(B)/debug/silo-bridge-asan) $(DUNIT_BIN)
unit: $(UNIT_BIN) $(DUNIT_BIN)

check: $(PROGS) $(UNIT_BIN) debug $(APPS) image
	tests/run.sh

image: $(PROGS) | $(DEPS_STAMP)
	image/build.sh $(KERNEL) $(DEFAULT_KERNEL)

# Every kernel series x firmware, each booting the scenarios in qemu-tests/scenarios/.
qemu-check: $(PROGS) $(APPS) | $(DEPS_STAMP)
	qemu-tests/matrix.sh

# The native server, for quick work.
dev: $(PROGS) $(APPS)
	scripts/dev.sh

# The appliance: builds the image and boots it in qemu, its ports 443 and 80 forwarded to
# 127.0.0.1; prints the HTTPS address, the certificate's fingerprint and the setup link.
run: image
	python3 qemu-tests/boot.py --image $(B)/silo-$(KERNEL).img

fuzz: | $(DEPS_STAMP)
	scripts/fuzz.sh

bench: $(PROGS) $(APPS)
	bench/bench.sh
	bench/bench_grains.sh
	bench/bench_share.py
	bench/bench_tls.sh

# Power-on to serving of the appliance under qemu TCG (6.12), and the 128 MiB RAM check.
bench-boot: $(PROGS) $(APPS)
	image/build.sh 6.12 $(DEFAULT_KERNEL)
	python3 bench/bench_boot.py --image $(B)/silo-6.12.img

clean:
	rm -rf $(B)/obj $(B)/dobj $(B)/mobj $(B)/gen $(B)/tests $(B)/debug $(B)/fuzz $(B)/apps $(PROGS) $(LIB) \
		$(INIT_LIB)
distclean:
	rm -rf $(B)

-include $(shell find $(B)/obj $(B)/dobj $(B)/mobj -name '*.d' 2>/dev/null)
