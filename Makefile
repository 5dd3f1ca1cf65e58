# rmxsmtpd: build, test, install.
#
#   make            release build of rmxsmtpd and rmxcheck
#   make check      the whole test suite (what CI runs)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
BINDIR = $(DESTDIR)$(PREFIX)/bin
RELEASE = target/release

.PHONY: all check lint test install clean

all:
	$(CARGO) build --release

# Lints first, tests last: the run ends with cargo test's summary.
check: lint test

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test:
	$(CARGO) test --all-targets

install: all
	install -d $(BINDIR)
	install -m 755 $(RELEASE)/rmxsmtpd $(BINDIR)/rmxsmtpd

clean:
	$(CARGO) clean
