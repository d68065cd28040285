# mk/stage.mk: how a stage folder builds its standalone daemon.
#
# A stage's Makefile is two lines: it includes this file. Every .c file of the
# stage folder is compiled and linked with common/ into <stage>/daemon, so
# `make -C part1-fork` builds that stage, and common/ with it, alone.

include $(dir $(lastword $(MAKEFILE_LIST)))config.mk

# override: a STAGE=... given to the top make (make test STAGE=x) must not
# rename every stage built below it.
override STAGE := $(notdir $(abspath $(CURDIR)))
STAGE_SRCS := $(wildcard $(ROOT)/$(STAGE)/*.c)
STAGE_OBJS := $(patsubst $(ROOT)/%.c,$(OBJDIR)/%.o,$(STAGE_SRCS))
STAGE_BIN := $(BINDIR)/$(STAGE)/daemon

.DEFAULT_GOAL := all
.PHONY: all clean
all: $(STAGE_BIN)
	@:

$(STAGE_BIN): $(STAGE_OBJS) $(LIBFORKD)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(STAGE_OBJS) $(LIBFORKD)

clean:
	rm -f $(STAGE_BIN) $(STAGE_OBJS) $(STAGE_OBJS:.o=.d)

-include $(STAGE_OBJS:.o=.d)
