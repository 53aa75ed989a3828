# SPDX-License-Identifier: LGPL-2.1-or-later
# berth: make deps | make | make check | make demo | make install PREFIX=... DESTDIR=... | make bench

SHELL := /bin/bash
VERSION := 0.2
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
GENDIR ?= $(PREFIX)/lib/systemd/system-generators
USERGENDIR ?= $(PREFIX)/lib/systemd/user-generators

PKGS := libsystemd libseccomp libcap libarchive libcurl jansson libcrypto libzstd zlib
CC ?= gcc

ifeq ($(SANITIZE),1)
B ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B ?= build
SANFLAGS :=
endif

WARNFLAGS := -Wall -Wextra -Werror -Werror=missing-prototypes -Werror=missing-declarations -Werror=format=2 \
	-Werror=undef -Werror=implicit-function-declaration -Werror=incompatible-pointer-types -Wshadow \
	-Wstrict-prototypes -Wold-style-definition -Wimplicit-fallthrough=5 -Wlogical-op -Wwrite-strings \
	-Wpointer-arith -Wredundant-decls -Wvla -fno-common -fstack-protector-strong -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-format-truncation
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lisal -lpthread
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DBERTH_VERSION='"$(VERSION)"' -Ilib $(WARNFLAGS) $(CFLAGS) $(SANFLAGS) \
	$(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS) $(SANFLAGS)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
LIBBERTH := $(B)/libberth.a

PROGRAMS := $(sort $(notdir $(wildcard cmd/*)))
bin_name = $(if $(filter berth,$(1)),berth,berth-$(1))
BINS := $(foreach p,$(PROGRAMS),$(B)/$(call bin_name,$(p)))

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
MAN_SRC := $(wildcard man/*.scd)
MAN_OUT := $(MAN_SRC:man/%.scd=$(B)/man/%)

# Debian packages for building, testing and the demo (make deps installs them).
DEB_PACKAGES := build-essential pkg-config libsystemd-dev libseccomp-dev libcap-dev libarchive-dev \
	libcurl4-openssl-dev libjansson-dev libssl-dev libisal-dev libzstd-dev zlib1g-dev \
	systemd dbus-user-session util-linux iproute2 iptables nftables procps psmisc curl jq python3 file \
	runc crun skopeo umoci podman catatonit uidmap docker-registry apache2-utils busybox-static \
	containernetworking-plugins aardvark-dns dnsmasq-base netavark \
	bats scdoc hyperfine cppcheck shellcheck strace bc time python3-prometheus-client openssl \
	systemd-container isal zstd clang-format

.PHONY: all deps check check-unit check-unit-san check-bats lint fmt fmt-check demo install bench clean man

all: $(BINS) $(MAN_OUT)

# berth-unpack reads tar only: libarchive linked statically brings just that, not the libxml2, ICU and libstdc++
# the shared library loads, which halves its start-up (~6 -> ~3 ms; berth-run runs it twice per container).
comma := ,
PKG_LIBS_unpack = $(subst -larchive,-Wl$(comma)-Bstatic -larchive -Wl$(comma)-Bdynamic,$(PKG_LIBS))
# berth-run starts for every container, and each shared library costs its mapping and relocation page faults
# (~0.1 ms apiece on a VM): seccomp and jansson are linked in (libcap comes with libsystemd anyway).
PKG_LIBS_run = $(foreach w,$(PKG_LIBS),$(if $(filter -lseccomp -ljansson,$(w)),-Wl$(comma)-Bstatic $(w) -Wl$(comma)-Bdynamic,$(w)))

define program_rule
$(B)/$(call bin_name,$(1)): $(patsubst %.c,$(B)/%.o,$(wildcard cmd/$(1)/*.c)) $(LIBBERTH)
	$$(CC) -o $$@ $$^ $$(ALL_LDFLAGS) $$(or $$(PKG_LIBS_$(1)),$$(PKG_LIBS))
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBBERTH): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(LIBBERTH)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBBERTH) $(ALL_LDFLAGS) $(PKG_LIBS)

$(B)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

man: $(MAN_OUT)

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

check-unit: $(UNIT_BINS)
	prove -e '' $(UNIT_BINS)

check-unit-san:
	$(MAKE) SANITIZE=1 check-unit

lint:
	cppcheck -q --std=c11 --enable=warning,portability --inline-suppr --error-exitcode=1 \
		--library=.cppcheck.cfg -D__GNUC__ -Ilib --suppress=missingIncludeSystem --suppress=varFuncNullUB --suppress=memleak --suppress=resourceLeak --suppress=nullPointerRedundantCheck lib cmd tests/unit
	shellcheck -x tests/helpers.bash tests/world.sh tests/fixtures.sh tests/pull-store.bash

# A failure's diagnostics are printed again at the end, where a truncated CI log still shows them.
check-bats: all
	@set -o pipefail; BERTH_STRICT=1 BERTH_BUILD=$(abspath $(B)) tests/world.sh prove --comments \
		-e 'timeout 900 bats' tests/*.bats 2>&1 | tee $(B)/bats.log || { \
		echo '--- the failures again:'; grep -E '^(#|tests/.*(Failed|Wstat))' $(B)/bats.log | tail -n 150; exit 1; }

check: deps
	$(MAKE) all
	$(MAKE) check-unit-san
	$(MAKE) lint
	$(MAKE) fmt-check
	$(MAKE) check-bats

demo: deps all
	BERTH_BUILD=$(abspath $(B)) tests/world.sh tests/demo.sh

fmt:
	clang-format -i lib/*.[ch] $(wildcard cmd/*/*.[ch]) $(UNIT_SRC)

fmt-check:
	clang-format --dry-run --Werror lib/*.[ch] $(wildcard cmd/*/*.[ch]) $(UNIT_SRC)

bench: all
	BERTH_BUILD=$(abspath $(B)) tests/world.sh bench/run-all.sh

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	@for m in $(MAN_OUT); do \
		sec=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$sec; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$sec/; \
	done
	@for u in $(wildcard units/*.in); do \
		n=$$(basename $$u .in); d=$(DESTDIR)$(UNITDIR); \
		install -d $$d; sed 's|@bindir@|$(BINDIR)|g' $$u > $$d/$$n; chmod 0644 $$d/$$n; \
		case $$n in berth@.service|berth-restart.service) install -d $(DESTDIR)$(USERUNITDIR); \
			install -m 0644 $$d/$$n $(DESTDIR)$(USERUNITDIR)/$$n;; esac; \
	done
	@if [ -x $(B)/berth-generator ]; then \
		install -d $(DESTDIR)$(GENDIR) $(DESTDIR)$(USERGENDIR); \
		ln -sf $(BINDIR)/berth-generator $(DESTDIR)$(GENDIR)/berth-generator; \
		ln -sf $(BINDIR)/berth-generator $(DESTDIR)$(USERGENDIR)/berth-generator; \
	fi

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(UNIT_BINS:=.d) $(foreach p,$(PROGRAMS),$(patsubst %.c,$(B)/%.d,$(wildcard cmd/$(p)/*.c)))
