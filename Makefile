# forkd: a forking daemon rebuilt in four stages, after the Polish article
# series "PHP Daemon" (parts I-IV). See README.md.
#
#   make                 build every stage (part*/daemon)
#   make demo            a narrated tour of the four lessons     [STAGE=...]
#   make test            every suite, under the machine-cleanliness check  [STAGE=...]
#   make run STAGE=...   one stage in the foreground on its default port
#   make diff STAGE=...  what a stage changes in daemon.c against the one before
#   make valgrind | sanitize | musl | lint | stress | bench | bench-counter
#   make exercise EX=part3-1 | solution EX=part3-1 | reset STAGE=... [FORCE=1]
#   make hint EX=part3-1 [N=2] | grade   (graduated hints; every exercise's score)
#   make check-exercises | watch STAGE=...  (keys: f freezes the daemon, t thaws it)
#   make trace STAGE=... K=5  the kernel's record of a frozen burst's signals [SOURCE=strace]
#   make doctor          what this machine has and lacks, with the packages
#   make check-docs      every command the READMEs show, run and checked  [FILES=...]
#   make container-test  the development container built, and demo and test run in it
#
# A stage is any folder named part*/: every target picks up a new one.

SHELL := /bin/bash
include mk/config.mk

STAGES := $(sort $(patsubst %/,%,$(wildcard part*/)))
# The tools, like the daemons (mk/config.mk), apart for any other compiler.
TOOLDIR ?= $(if $(filter cc gcc,$(VARIANT)),$(ROOT)/build/tools,$(ROOT)/build/$(VARIANT)/tools)
# The bats that test, exercise, check-exercises, sanitize and stress run:
# BATS=/path/to/bats if you name one; else the system's bats when it is
# 1.7.0 or newer and bats-support and bats-assert are in /usr/lib/bats
# (Debian/Ubuntu: apt-get install bats bats-support bats-assert); else the
# pinned one, fetched with npm. 1.7.0 is the oldest release the suites run
# on: each calls bats_require_minimum_version, which 1.6.0 lacks (tried:
# tests/common.bats passes with 1.7.0, fails at its first line with 1.6.0).
# tools/doctor.sh --bats makes the choice; make doctor reports it.
BATS_NPM := $(ROOT)/tests/node_modules/bats/bin/bats
ifeq ($(origin BATS),undefined)
BATS := $(shell $(ROOT)/tools/doctor.sh --bats)
else
BATS_GIVEN := $(BATS)
override BATS := $(if $(findstring /,$(BATS)),$(abspath $(BATS)),$(shell command -v $(BATS)))
endif
export BATS
TOOL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SANFLAGS)
TOOLS := $(addprefix $(TOOLDIR)/,reaper sigwatch loadgen burst hostile childwatch childkill shmpeek counter_test sigenv semhold)
export FORKD_TOOLS_DIR := $(TOOLDIR)
# The suites and scripts find a variant's daemons there (make CC=clang test).
ifneq ($(BINDIR),$(ROOT))
export FORKD_BIN_DIR := $(BINDIR)
endif

.DEFAULT_GOAL := all
.PHONY: all $(STAGES) tools test demo run diff valgrind sanitize lint clean stress bench bench-counter \
	watch exercise check-exercises doctor bats-ready musl trace

all: $(STAGES)

$(STAGES): $(LIBFORKD)
	@$(MAKE) --no-print-directory -C $@

tools: $(TOOLS)

$(TOOLDIR)/%: tests/tools/%.c tests/tools/netline.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TOOL_CFLAGS) -pthread -o $@ $< $(ALL_LDFLAGS)

# The reference server, tcpserver's handler and the counter microbenchmark.
$(TOOLDIR)/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TOOL_CFLAGS) -pthread -o $@ $< $(ALL_LDFLAGS)

# The unit test of part 4's counter, linked with the stage's own counter.c.
# Exercises part4-1 and part4-2 replace the counter's interface: when
# counter_test.c no longer compiles against the stage's counter.h, a stand-in
# that says so takes its place (the part 4 suite then skips its unit test),
# so that demo, watch and test still build.
COUNTER_TEST_CC = $(CC) $(CPPFLAGS) -Ipart4-shm-semaphore $(TOOL_CFLAGS)
$(TOOLDIR)/counter_test: tests/tools/counter_test.c part4-shm-semaphore/counter.c part4-shm-semaphore/counter.h
	@mkdir -p $(@D)
	@if $(COUNTER_TEST_CC) -fsyntax-only tests/tools/counter_test.c 2>/dev/null; then \
		echo '$(COUNTER_TEST_CC) -o $@ tests/tools/counter_test.c part4-shm-semaphore/counter.c $(ALL_LDFLAGS)'; \
		$(COUNTER_TEST_CC) -o $@ tests/tools/counter_test.c part4-shm-semaphore/counter.c $(ALL_LDFLAGS); \
	else \
		tools/exercise.sh counter-test-skipped $@; \
	fi

# bats-core and its helpers, pinned in tests/package-lock.json, installed in
# tests/node_modules (ignored by git) the first time make test needs them.
$(BATS_NPM): tests/package.json tests/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make test needs bats-core 1.7.0 or newer with bats-support and bats-assert: install them (Debian/Ubuntu: sudo apt-get install bats bats-support bats-assert), or npm (sudo apt-get install npm), which fetches the pinned ones, and run make test again; make doctor says what is there" >&2; exit 1; }
	@cd tests && npm ci --no-audit --no-fund --loglevel=error || { echo "make test could not fetch bats, bats-support and bats-assert with npm ci: install them (npm install in tests/), or give this machine access to the npm registry" >&2; exit 1; }
	@touch $@

# What the targets that run bats wait for: the pinned bats when it is the
# one chosen, and in any case an executable.
bats-ready: $(filter $(BATS_NPM),$(BATS))
	@test -n "$(BATS)" && test -x "$(BATS)" || { echo "BATS=$(or $(BATS_GIVEN),$(BATS)): no such executable bats" >&2; exit 1; }

test: all tools bats-ready
	@tests/scripts/run-suite.sh $(STAGE)

demo: all tools
	@tools/demo.sh $(STAGE)

# What this machine has and lacks for demo, test and the READMEs' recipes.
doctor:
	@tools/doctor.sh

# One exercise's checker against your working tree: make exercise EX=part3-1
# [ITERS=N: rounds of each race, 3 by default]. When it passes on work of
# your own, the work is saved in build/exercises/passed/ for make grade.
exercise: all $(TOOLDIR)/reaper bats-ready
	@FORKD_BIN_DIR=$(BINDIR) $(if $(ITERS),FORKD_ITERS=$(ITERS)) tools/exercise.sh check $(EX)

# Every exercise's state and points, a total and a JSON line, checked in
# temporary copies: your working tree is never touched.
.PHONY: grade hint
grade: bats-ready
	@tools/exercise.sh grade

# make hint EX=part3-1 [N=1|2|3]: graduated hints, the next one by default.
hint:
	@tools/exercise.sh hint "$(EX)" "$(N)"

# make solution EX=part3-1: the reference solution, applied to its stage.
# make reset STAGE=part3-signals-bug (or EX=part3-1): the stage's code as
# committed. Both refuse to overwrite uncommitted work unless FORCE=1.
.PHONY: solution reset
solution:
	@FORCE=$(FORCE) tools/exercise.sh solution "$(EX)"

reset:
	@FORCE=$(FORCE) tools/exercise.sh reset "$(or $(STAGE),$(EX))"

# Every checker fails on the untouched stages and passes with its solution.
check-exercises: $(TOOLDIR)/reaper bats-ready
	@tests/scripts/check-exercises.sh $(EX)

# Every shell block of the READMEs (and docs/*.md) run and its promised
# output checked, or exempt with a printed reason; README.pl.md in sync with
# README.md. FILES=part3-signals-bug/README.md checks only those files. The
# self-test first proves that the check fails on broken recipes.
.PHONY: check-docs
check-docs: all tools
	@$(TOOLDIR)/reaper tests/docs/selftest.sh
	@$(TOOLDIR)/reaper tests/docs/check-docs.sh $(FILES)

watch: all tools
	@tools/watch.sh $(or $(STAGE),part3-signals-bug) $(ARGS)

# Each send, the kernel's verdict and each delivery of a frozen burst's
# signals: tracefs as root, strace -f otherwise (SOURCE=tracefs|strace).
trace: all tools
	@tools/trace.sh $(if $(SOURCE),-s $(SOURCE)) $(if $(SIGNAL),-S $(SIGNAL)) $(or $(STAGE),part3-signals-bug) $(K)

run:
	@$(MAKE) --no-print-directory $(or $(STAGE),part1-fork)
	$(if $(filter $(ROOT),$(BINDIR)),.,$(BINDIR))/$(or $(STAGE),part1-fork)/daemon -f $(ARGS)

diff:
	@test -n "$(STAGE)" || { echo "usage: make diff STAGE=part2-zombies" >&2; exit 2; }
	@prev=$$(printf '%s\n' $(STAGES) | grep -B1 -x '$(STAGE)' | head -n 1); \
	test -n "$$prev" || { echo "no stage named $(STAGE)" >&2; exit 2; }; \
	test "$$prev" != "$(STAGE)" || { echo "$(STAGE) is the first stage: nothing before it" >&2; exit 2; }; \
	diff -u "$$prev/daemon.c" "$(STAGE)/daemon.c"; test $$? -le 1

# The development container (.devcontainer/) built from this clone, and
# make demo and make test run inside it as its normal user (podman or docker;
# CI runs it). Removes what it made.
.PHONY: container-test
container-test:
	@tests/scripts/container-test.sh

# Longer load and fault runs than make test, with their figures (not in CI).
stress: all tools bats-ready
	@tests/scripts/stress.sh $(STAGE)

bench: all tools $(TOOLDIR)/floor $(TOOLDIR)/handler
	@tests/bench/bench.sh $(ROUNDS)

bench-counter: $(TOOLDIR)/counterbench
	@$(TOOLDIR)/counterbench

valgrind: all tools
	@tests/scripts/valgrind.sh $(or $(STAGE),$(STAGES))

# The whole suite against ASan+UBSan builds, in build/sanitize/. Any report
# a sanitizer writes (parent or child) fails the target.
SAN_DIR := $(ROOT)/build/sanitize
sanitize: bats-ready
	@$(MAKE) --no-print-directory SANITIZE=1 BINDIR=$(SAN_DIR) TOOLDIR=$(SAN_DIR)/tools all tools
	@rm -rf $(SAN_DIR)/reports && mkdir -p $(SAN_DIR)/reports
	@FORKD_BIN_DIR=$(SAN_DIR) FORKD_TOOLS_DIR=$(SAN_DIR)/tools \
	ASAN_OPTIONS=log_path=$(SAN_DIR)/reports/asan:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=log_path=$(SAN_DIR)/reports/ubsan:print_stacktrace=1:halt_on_error=1 \
	tests/scripts/run-suite.sh $(STAGE)
	@if [ -n "$$(ls -A $(SAN_DIR)/reports)" ]; then cat $(SAN_DIR)/reports/*; echo "sanitizer reports above" >&2; exit 1; fi
	@echo "sanitize: no ASan or UBSan report"

# The daemons and tools built against musl libc (musl-gcc) in build/musl-gcc/,
# and the contract suite (common.bats) run against them: every stage, or STAGE.
MUSL_CC ?= musl-gcc
MUSL_DIR := $(ROOT)/build/$(notdir $(MUSL_CC))
musl: bats-ready
	@command -v $(MUSL_CC) >/dev/null 2>&1 || { echo "make musl needs $(MUSL_CC) (Debian/Ubuntu: sudo apt-get install musl-tools)" >&2; exit 1; }
	@$(MAKE) --no-print-directory CC=$(MUSL_CC) BINDIR=$(MUSL_DIR)/bin TOOLDIR=$(MUSL_DIR)/tools all tools
	@FORKD_BIN_DIR=$(MUSL_DIR)/bin FORKD_TOOLS_DIR=$(MUSL_DIR)/tools FORKD_SUITES=common.bats \
	tests/scripts/run-suite.sh $(STAGE)

C_SOURCES := $(wildcard common/*.c part*/*.c tests/tools/*.c tests/bench/*.c)
C_HEADERS := $(wildcard common/*.h part*/*.h)
LINT_FLAGS := -std=c11 -D_XOPEN_SOURCE=700 -Icommon $(addprefix -I,$(STAGES))
lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,style,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem -D_XOPEN_SOURCE=700 -Icommon $(addprefix -I,$(STAGES)) \
	  $(C_SOURCES)
	clang-tidy --quiet $(C_SOURCES) -- $(LINT_FLAGS) 2> >(grep -vE ' warnings? generated\.$$' >&2)
	clang-format --dry-run -Werror $(C_SOURCES) $(C_HEADERS)
	@echo "lint: clean"

clean:
	rm -rf build $(addsuffix /daemon,$(STAGES))
