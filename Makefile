# The entry point of the build: every goal first runs scripts/install-deps (the Debian packages the build, the
# tests and the demo need; silent when all are there), then the real build in build.mk through a sub-make.
# build.mk asks apr-1-config, pkg-config and apxs for flags when it is read: that must come after the packages
# are installed, so it is read only by the sub-make (on a fresh machine the first `make demo` then just works).
.DEFAULT_GOAL := all
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

# Goals that need no package.
NO_DEPS := clean

Makefile build.mk: ;

%::
	@$(if $(filter $@,$(NO_DEPS)),true,scripts/install-deps)
	@$(MAKE) -f build.mk $@
