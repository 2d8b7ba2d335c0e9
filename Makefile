# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# IAM build.  Everything lands under $(BUILD); `make V=1` shows the commands.
#
#   make            build the BPF objects, skeletons, the agent and the tools
#   make test       install missing packages, build, run every test
#   make demo       install missing packages, build, run the FIG. 1A demo
#   make bench      the benchmarks (numbers printed beside measured limits)
#   make fuzz       longer libFuzzer runs of every fuzz target
#   make test-rxe   only the soft-RoCE tests in a QEMU guest
#   make deps       install the Debian packages (idempotent)
#   make format     reformat the sources with .clang-format

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

BUILD ?= build
V ?= 0
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

CC := gcc
CLANG := clang
BPFTOOL := bpftool
AR := ar

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla
INCLUDES := -Iheaders -Iuser -I$(BUILD)/gen -Itests/lib
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread $(INCLUDES) -MMD -MP
LDLIBS := -lbpf -lelf -lz -lmnl -libverbs -lrdmacm -pthread -lm

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Wextra \
	-Werror -Wno-unused-parameter $(INCLUDES) -MMD -MP

# Sanitizer build for fuzz targets: the same sources, compiled by clang.
FUZZ_CFLAGS := -O1 -g -fsanitize=address,undefined,fuzzer-no-link \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	$(WARN) -std=gnu11 -D_GNU_SOURCE -pthread $(INCLUDES) -DIAM_FUZZ -MMD -MP

# ---- sources ----------------------------------------------------------------
AGENT_SRCS := $(sort $(shell find user -name '*.c' -not -path 'user/lib/*'))
LIB_SRCS := $(sort $(wildcard user/lib/*.c))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
TOOLS := $(notdir $(basename $(wildcard tools/iam-load.c tools/iamctl.c tools/iam-bench.c)))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
BPFT_SRCS := $(sort $(wildcard tests/bpf/*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))
TESTTOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
VM_SRCS := $(sort $(wildcard tests/vm/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
AGENT_OBJS := $(call obj,$(AGENT_SRCS))
LIB_OBJS := $(call obj,$(LIB_SRCS))
LIB_PIC_OBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(LIB_SRCS))
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/gen/%.skel.h,$(BPF_SRCS))
TOOL_BINS := $(addprefix $(BUILD)/,$(TOOLS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRCS))
TESTTOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TESTTOOL_SRCS))
VM_BINS := $(patsubst tests/vm/%.c,$(BUILD)/tests/vm/%,$(VM_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_AGENT_OBJS := $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(AGENT_SRCS))

AGENT_LIB := $(BUILD)/libiamagent.a
CLIENT_LIB := $(BUILD)/libiam.a
CLIENT_SO := $(BUILD)/libiam.so

.PHONY: all tests test bench fuzz fuzz-build test-rxe deps demo demo-down \
	format clean
all: $(BPF_OBJS) $(SKELS) $(AGENT_LIB) $(CLIENT_LIB) $(CLIENT_SO) $(TOOL_BINS)
tests: all $(UNIT_BINS) $(BPFT_BINS) $(BENCH_BINS) $(TESTTOOL_BINS) $(VM_BINS)

# ---- BPF --------------------------------------------------------------------
$(BUILD)/gen/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/gen/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MT $@ -MF $@.d -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/gen/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# ---- userspace --------------------------------------------------------------
# Skeletons are generated before any C file is compiled (order-only), and
# -MMD records which objects really include them.
$(BUILD)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(AGENT_LIB): $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CLIENT_LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CLIENT_SO): $(LIB_PIC_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libiam.so.0 -pthread -o $@ $^

# A tool is tools/NAME.c plus any tools/NAME-*.c (iamctl's subcommands).
.SECONDEXPANSION:
$(TOOL_BINS): $(BUILD)/%: $$(call obj,$$(sort $$(wildcard tools/$$*.c tools/$$*-*.c))) $(AGENT_LIB) $(CLIENT_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(AGENT_LIB) $(CLIENT_LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(AGENT_LIB) $(CLIENT_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(AGENT_LIB) $(CLIENT_LIB) $(LDLIBS)

# ---- fuzzing ----------------------------------------------------------------
$(BUILD)/fuzzobj/%.o: %.c | $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/libiamagent-fuzz.a: $(FUZZ_AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/%: $(BUILD)/fuzzobj/tests/fuzz/%.o $(BUILD)/libiamagent-fuzz.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(BUILD)/libiamagent-fuzz.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# FUZZ_TIME seconds per target (default 60); `make test` runs a short pass.
fuzz: fuzz-build
	$(Q)FUZZ_TIME=$${FUZZ_TIME:-60} tests/fuzz/run.sh $(BUILD)

# ---- running ----------------------------------------------------------------
deps:
	$(Q)tools/deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory tests fuzz-build
	$(Q)BUILD=$(BUILD) tests/run.sh

test-rxe: deps
	$(Q)$(MAKE) --no-print-directory all $(VM_BINS) $(TESTTOOL_BINS)
	$(Q)BUILD=$(BUILD) tests/run.sh --only vm

bench: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) KEEP=$(KEEP) tests/demo/demo.sh

demo-down:
	$(Q)BUILD=$(BUILD) tests/demo/demo.sh --down

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
