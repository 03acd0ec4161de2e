# SPDX-License-Identifier: GPL-2.0
#
# make          build ./wsplice (BPF objects, skeletons, llhttp from Debian's node-llhttp, daemon)
# make run      install what is missing, build, run the example (examples/wsplice.cfg)
# make test     install what is missing, build, run every test (unit + bats)
# make vmlinux  regenerate the committed vmlinux.h from this kernel's BTF
# make install  binary, man pages, systemd unit, example config under $(DESTDIR)$(PREFIX)
#               (PREFIX=/usr/local by default); make uninstall removes them
# make fuzz     run each libFuzzer harness for FUZZ_TIME seconds (docs/reliability.md)
# V=1 shows full commands; SANITIZE=1 builds with ASan and UBSan.

OUTPUT := .output
CLANG ?= clang
CC ?= cc
BPFTOOL ?= bpftool
LLHTTP_SRC ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	-Iinclude -I$(OUTPUT)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-Iinclude -Iuser -I$(OUTPUT) -I$(LLHTTP_INC) -D_GNU_SOURCE
LDLIBS := -lbpf -lelf -lz
ifeq ($(SANITIZE),1)
# A finding stops the daemon (UBSan would only print and go on), so that a test fails on it.
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
LLHTTP_OBJS := $(patsubst %,$(OUTPUT)/llhttp/%.o,api http llhttp)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.PHONY: all clean run test unit deps vmlinux install uninstall

all: wsplice

# Any change of compiler or flags rebuilds everything: the stamp is rewritten only when it differs.
FLAGS_STAMP := $(OUTPUT)/flags
FLAGS_NOW := $(CC) $(CFLAGS) $(LDFLAGS) | $(CLANG) $(BPF_CFLAGS)
$(shell mkdir -p $(OUTPUT) && \
	if [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" != '$(FLAGS_NOW)' ]; then \
		echo '$(FLAGS_NOW)' > $(FLAGS_STAMP); fi)

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c vmlinux.h $(FLAGS_STAMP)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I. -MMD -MP -c $< -o $@

# Kept: as intermediates (object, then skeleton) make deleted them after a build, and the next make
# (make install in a test) rebuilt them, splice.o and the daemon, whose binary was
# then missing for a moment to the tests running beside it.
.SECONDARY: $(BPF_OBJS) $(SKELS)

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/user/%.o: user/%.c $(FLAGS_STAMP) | $(SKELS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Third-party code, compiled from the Debian package as it is: its warnings are not ours to fix.
$(OUTPUT)/llhttp/%.o: $(LLHTTP_SRC)/%.c $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -Werror -Wall -Wextra,$(CFLAGS)) -w -c $< -o $@

wsplice: $(USER_OBJS) $(LLHTTP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) $(LLHTTP_OBJS) $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) $< $(LIB_OBJS) $(LLHTTP_OBJS) $(LDLIBS) -o $@

unit: $(UNIT_BINS)

deps:
	$(Q)scripts/install-deps

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-example

test: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)scripts/run-tests

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	rm -rf $(OUTPUT) wsplice

# --- install: the GNU directory variables, DESTDIR for staging --------------------------------
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/wsplice
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
INSTALLED := $(SBINDIR)/wsplice $(MANDIR)/man8/wsplice.8 $(MANDIR)/man5/wsplice.cfg.5 \
	$(DOCDIR)/wsplice.cfg $(SYSTEMDUNITDIR)/wsplice.service

install: wsplice
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	$(Q)$(INSTALL) -m 0755 wsplice $(DESTDIR)$(SBINDIR)/wsplice
	$(Q)$(INSTALL) -m 0644 docs/wsplice.8 $(DESTDIR)$(MANDIR)/man8/wsplice.8
	$(Q)$(INSTALL) -m 0644 docs/wsplice.cfg.5 $(DESTDIR)$(MANDIR)/man5/wsplice.cfg.5
	$(Q)$(INSTALL) -m 0644 examples/wsplice.cfg $(DESTDIR)$(DOCDIR)/wsplice.cfg
	$(Q)sed 's#/usr/local/sbin/wsplice#$(SBINDIR)/wsplice#g' examples/wsplice.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/wsplice.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/wsplice.service

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)

# --- fuzz: libFuzzer harnesses (tests/fuzz/fuzz_<name>.c) -----------------------------------
# make fuzz-build builds them; make fuzz runs each for FUZZ_TIME seconds (tests/fuzz/run) and
# fails on any crash, leak or sanitizer report; tests/80-fuzz.bats runs each for a few seconds.
# Their own objects, built by clang with the fuzzer's instrumentation and the sanitizers, so that
# the daemon's build flags are not touched. They depend on this Makefile: new flags rebuild them.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-Wno-missing-field-initializers -Iinclude -Iuser -I$(LLHTTP_INC) -D_GNU_SOURCE \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_NAMES := http ws cfg
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_LLHTTP := $(patsubst %,$(OUTPUT)/fuzz/llhttp/%.o,api http llhttp)
fuzz_user = $(patsubst %,$(OUTPUT)/fuzz/user/%.o,$(1))

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)for n in $(FUZZ_NAMES); do tests/fuzz/run $$n $(FUZZ_TIME) || exit 1; done

$(OUTPUT)/fuzz/user/%.o: user/%.c Makefile
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c Makefile
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/fuzz/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(filter-out -Werror -Wall -Wextra,$(FUZZ_CFLAGS)) -w -c $< -o $@

# What each harness links: the code under test and what it calls, nothing of the event loop.
$(OUTPUT)/fuzz/fuzz_http: $(call fuzz_user,http http_rules acl) $(FUZZ_LLHTTP)
$(OUTPUT)/fuzz/fuzz_ws: $(call fuzz_user,ws http) $(FUZZ_LLHTTP)
$(OUTPUT)/fuzz/fuzz_cfg: $(call fuzz_user,cfg cfg_global cfg_http cfg_proxy cfg_server acl \
	http_rules http errors backend log cfg_log syslog logfmt $(notdir $(basename $(wildcard user/lb_*.c)))) \
	$(FUZZ_LLHTTP)

$(FUZZ_BINS): $(OUTPUT)/fuzz/fuzz_%: $(OUTPUT)/fuzz/fuzz_%.o
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(filter %.o,$^) -o $@

-include $(wildcard $(OUTPUT)/fuzz/*.d $(OUTPUT)/fuzz/user/*.d)
