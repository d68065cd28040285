# forkd: a forking daemon rebuilt in four stages, after the Polish article
# series "PHP Daemon" (parts I-IV). See README.md.
#
#   make                 build every stage (part*/daemon)
#   make demo            a narrated tour of the four lessons     [STAGE=...]
#   make test            every suite, under the machine-cleanliness check  [STAGE=...]
#   make run STAGE=...   one stage in the foreground on its default port
#   make diff STAGE=...  what a stage changes in daemon.c against the one before
#   make valgrind | sanitize | lint | stress | bench | bench-counter
#   make exercise EX=part3-1 | check-exercises | watch STAGE=...
#
# A stage is any folder named part*/: every target picks up a new one.

SHELL := /bin/bash
include mk/config.mk

STAGES := $(sort $(patsubst %/,%,$(wildcard part*/)))
TOOLDIR ?= $(ROOT)/build/tools
BATS := $(ROOT)/tests/node_modules/bats/bin/bats
TOOL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SANFLAGS)
TOOLS := $(addprefix $(TOOLDIR)/,reaper sigwatch loadgen burst hostile childwatch shmpeek counter_test)
export FORKD_TOOLS_DIR := $(TOOLDIR)

.DEFAULT_GOAL := all
.PHONY: all $(STAGES) tools test demo run diff valgrind sanitize lint clean stress bench bench-counter \
	watch exercise check-exercises

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
$(TOOLDIR)/counter_test: tests/tools/counter_test.c part4-shm-semaphore/counter.c part4-shm-semaphore/counter.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ipart4-shm-semaphore $(TOOL_CFLAGS) -o $@ tests/tools/counter_test.c part4-shm-semaphore/counter.c $(ALL_LDFLAGS)

# bats-core and its helpers, pinned in tests/package-lock.json, installed in
# tests/node_modules (ignored by git) the first time make test needs them.
$(BATS): tests/package.json tests/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make test needs bats-core 1.13.0, bats-support and bats-assert, fetched with npm: install npm (Debian/Ubuntu: sudo apt-get install npm) and run make test again" >&2; exit 1; }
	@cd tests && npm ci --no-audit --no-fund --loglevel=error || { echo "make test could not fetch bats, bats-support and bats-assert from the npm registry: install them (npm install in tests/) or give this machine access to registry.npmjs.org" >&2; exit 1; }
	@touch $@

test: all tools $(BATS)
	@tests/scripts/run-suite.sh $(STAGE)

demo: all tools
	@tests/scripts/demo.sh $(STAGE)

# One exercise's checker against your working tree: make exercise EX=part3-1
exercise: all $(TOOLDIR)/reaper $(BATS)
	@test -n "$(EX)" || { echo "usage: make exercise EX=part3-1 (the exercises: $(notdir $(basename $(wildcard tests/exercises/*.bats))))" >&2; exit 2; }
	@test -f tests/exercises/$(EX).bats || { echo "no exercise $(EX) (the exercises: $(notdir $(basename $(wildcard tests/exercises/*.bats))))" >&2; exit 2; }
	@FORKD_BIN_DIR=$(ROOT) $(TOOLDIR)/reaper $(BATS) tests/exercises/$(EX).bats

# Every checker fails on the untouched stages and passes with its solution.
check-exercises: $(TOOLDIR)/reaper $(BATS)
	@tests/scripts/check-exercises.sh $(EX)

watch: all tools
	@tests/scripts/watch.sh $(or $(STAGE),part3-signals-bug) $(ARGS)

run:
	@$(MAKE) --no-print-directory $(or $(STAGE),part1-fork)
	./$(or $(STAGE),part1-fork)/daemon -f $(ARGS)

diff:
	@test -n "$(STAGE)" || { echo "usage: make diff STAGE=part2-zombies" >&2; exit 2; }
	@prev=$$(printf '%s\n' $(STAGES) | grep -B1 -x '$(STAGE)' | head -n 1); \
	test -n "$$prev" || { echo "no stage named $(STAGE)" >&2; exit 2; }; \
	test "$$prev" != "$(STAGE)" || { echo "$(STAGE) is the first stage: nothing before it" >&2; exit 2; }; \
	diff -u "$$prev/daemon.c" "$(STAGE)/daemon.c"; test $$? -le 1

# Longer load and fault runs than make test, with their figures (not in CI).
stress: all tools $(BATS)
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
sanitize: $(BATS)
	@$(MAKE) --no-print-directory SANITIZE=1 BINDIR=$(SAN_DIR) TOOLDIR=$(SAN_DIR)/tools all tools
	@rm -rf $(SAN_DIR)/reports && mkdir -p $(SAN_DIR)/reports
	@FORKD_BIN_DIR=$(SAN_DIR) FORKD_TOOLS_DIR=$(SAN_DIR)/tools \
	ASAN_OPTIONS=log_path=$(SAN_DIR)/reports/asan:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=log_path=$(SAN_DIR)/reports/ubsan:print_stacktrace=1:halt_on_error=1 \
	tests/scripts/run-suite.sh $(STAGE)
	@if [ -n "$$(ls -A $(SAN_DIR)/reports)" ]; then cat $(SAN_DIR)/reports/*; echo "sanitizer reports above" >&2; exit 1; fi
	@echo "sanitize: no ASan or UBSan report"

C_SOURCES := $(wildcard common/*.c part*/*.c tests/tools/*.c tests/bench/*.c)
C_HEADERS := $(wildcard common/*.h part*/*.h)
LINT_FLAGS := -std=c11 -D_XOPEN_SOURCE=700 -Icommon $(addprefix -I,$(STAGES))
lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,style,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem -D_XOPEN_SOURCE=700 -Icommon $(addprefix -I,$(STAGES)) \
	  $(C_SOURCES)
	clang-tidy --quiet $(C_SOURCES) -- $(LINT_FLAGS) 2> >(grep -v ' warnings generated\.$$' >&2)
	clang-format --dry-run -Werror $(C_SOURCES) $(C_HEADERS)
	@echo "lint: clean"

clean:
	rm -rf build $(addsuffix /daemon,$(STAGES))
