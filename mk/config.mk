# mk/config.mk: the settings every Makefile of the repository shares.
#
# Objects go to build/<variant>/, where the variant names the compiler (and
# "-sanitize" for ASan+UBSan builds), so `make CC=clang` after `make` rebuilds
# instead of silently reusing gcc's objects. Daemons go to
# $(BINDIR)/<stage>/daemon: the repository itself for the system's compiler
# (cc or gcc), build/<variant>/bin for any other (make CC=clang, make
# CC=musl-gcc), and build/sanitize for make sanitize. Sharing part*/daemon
# would let one build silently keep the other's binaries: make does not
# relink a daemon that is newer than the objects of the variant asked for.

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

CFLAGS ?= -O2 -g
WARNINGS := -std=c11 -Wall -Wextra -Wpedantic -Werror
# C11 plus POSIX.1-2008 with the XSI option (System V IPC lives there).
CPPFLAGS += -D_XOPEN_SOURCE=700 -I$(ROOT)/common

ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

VARIANT ?= $(notdir $(firstword $(CC)))$(if $(filter 1,$(SANITIZE)),-sanitize)
OBJDIR ?= $(ROOT)/build/$(VARIANT)
BINDIR ?= $(if $(filter cc gcc,$(VARIANT)),$(ROOT),$(ROOT)/build/$(VARIANT)/bin)

ALL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SANFLAGS) -MMD -MP
# -z now: resolve every library symbol at start. With lazy binding, each
# forked child would look up (and copy-on-write the page of) every libc
# function the parent had not called yet: measured, a fifth of a child's
# page faults (make bench). Only where the linker takes it (GNU ld and lld
# do, musl-gcc's too; macOS's does not): probed once per compiler, and the
# answer passed on to the stages' sub-makes.
ifneq ($(FORKD_LD_NOW_CC),$(CC))
export FORKD_LD_NOW_CC := $(CC)
export FORKD_LD_NOW := $(shell printf 'int main(void) { return 0; }\n' | \
	$(CC) -Wl,-z,now -x c -o /dev/null - >/dev/null 2>&1 && echo -Wl,-z,now)
endif
ALL_LDFLAGS = $(SANFLAGS) $(FORKD_LD_NOW) $(LDFLAGS)

LIBFORKD := $(OBJDIR)/common/libforkd.a
COMMON_SRCS := $(wildcard $(ROOT)/common/*.c)
COMMON_OBJS := $(patsubst $(ROOT)/common/%.c,$(OBJDIR)/common/%.o,$(COMMON_SRCS))

$(LIBFORKD): $(COMMON_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(OBJDIR)/%.o: $(ROOT)/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

-include $(COMMON_OBJS:.o=.d)
