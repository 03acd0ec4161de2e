# SPDX-License-Identifier: GPL-2.0
#
# make          build ./wsplice (BPF objects, skeletons, llhttp from Debian's node-llhttp, daemon)
# make run      install what is missing, build, run the example (examples/wsplice.cfg)
# make test     install what is missing, build, run every test (unit + bats)
# make vmlinux  regenerate the committed vmlinux.h from this kernel's BTF
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
.PHONY: all clean run test unit deps vmlinux

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

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)

# --- fuzz: libFuzzer over the HTTP glue (make fuzz; tests/80-fuzz.bats runs it for 20 s) -------
# Its own objects, built by clang with the fuzzer's instrumentation and the sanitizers, so that
# the daemon's build flags are not touched. They depend on this Makefile: new flags rebuild them.
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-Wno-missing-field-initializers -Iinclude -Iuser -I$(LLHTTP_INC) -D_GNU_SOURCE \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJS := $(patsubst %,$(OUTPUT)/fuzz/user/%.o,http http_rules acl) \
	$(patsubst %,$(OUTPUT)/fuzz/llhttp/%.o,api http llhttp) $(OUTPUT)/fuzz/fuzz_http.o

.PHONY: fuzz
fuzz: $(OUTPUT)/fuzz/fuzz_http

$(OUTPUT)/fuzz/user/%.o: user/%.c Makefile
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/fuzz/fuzz_http.o: tests/fuzz/fuzz_http.c Makefile
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/fuzz/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile
	$(call msg,FUZZ-CC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(filter-out -Werror -Wall -Wextra,$(FUZZ_CFLAGS)) -w -c $< -o $@

$(OUTPUT)/fuzz/fuzz_http: $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(filter %.o,$^) -o $@

-include $(wildcard $(OUTPUT)/fuzz/*.d $(OUTPUT)/fuzz/user/*.d)
