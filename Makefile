# rmxsmtpd: build, test, install.
#
#   make            release build of rmxsmtpd, rmxcheck, rmxpolicyd and rmxreport,
#                   into target/HOST/release (HOST as rustc -vV names it)
#   make check      the whole test suite (what CI runs)
#   make demo       the idea in a few seconds: rmxsmtpd for three clients
#   make install    PREFIX=/usr/local DESTDIR=; builds first when a cargo new
#                   enough for Cargo.toml's rust-version is on PATH, else
#                   installs what `make` built (sudo make install)
#   make install-files  the copying half alone: what `make` built, no cargo
#   make uninstall  removes what install-files copied (same PREFIX, DESTDIR,
#                   MANDIR), and nothing else
#   make bench      rmxsmtpd against rblsmtpd, Postfix with and without
#                   rmxpolicyd, rmxreport against awk, side by side (root; not in CI)
#   make clean

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
MANDOC ?= mandoc
MANDIR ?= $(PREFIX)/share/man
BINDIR = $(DESTDIR)$(PREFIX)/bin
MAN1DIR = $(DESTDIR)$(MANDIR)/man1
MAN8DIR = $(DESTDIR)$(MANDIR)/man8
# The release binaries are static position-independent executables (glibc
# crt-static with the default PIC relocation model: static-pie): no dynamic
# loader at start-up, and ASLR kept, as every network-facing binary in a
# distribution keeps it. Their relative relocations are packed (RELR, which
# glibc's static-pie start-up applies), so the self-relocation at start-up
# reads a few hundred bytes instead of some 40 KiB of RELA entries
# (bench/README.md). --target keeps these flags off the proc-macros that
# hickory-proto's dependencies build for the host.
HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_RUSTFLAGS = -C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs
# Where `make` builds: target/HOST/release. Without rustc on PATH (root's
# PATH under sudo, after a user ran `make`), the directory that build left.
ifneq ($(HOST),)
RELEASE = target/$(HOST)/release
else
RELEASE = $(patsubst %/rmxsmtpd,%,$(firstword $(wildcard target/*/release/rmxsmtpd)))
endif
# Where install-files takes the binaries from.
BINARIES ?= $(RELEASE)
# A cargo counts only if it is as new as Cargo.toml's rust-version: under
# sudo, root's PATH may hold Debian 12's own cargo (1.65) and not rustup's,
# and that one cannot even read an edition 2024 manifest.
RUST_VERSION := $(shell sed -n 's/^rust-version *= *"\([0-9]*\.[0-9]*\).*/\1/p' Cargo.toml)
CARGO_VERSION := $(shell $(CARGO) --version 2>/dev/null | sed -n 's/^cargo \([0-9]*\.[0-9]*\).*/\1/p')
HAVE_CARGO := $(shell [ -n '$(CARGO_VERSION)' ] && set -- $$(echo '$(CARGO_VERSION) $(RUST_VERSION)' | sed 's/\./ /g') && \
	{ [ $$1 -gt $$3 ] || { [ $$1 -eq $$3 ] && [ $$2 -ge $$4 ]; }; } && echo yes)
# Skipped checks, one `SKIP: ...` line each (tests/support/skip.rs); the
# end of `make check` and `make test` counts them (tests/summary).
SKIPS = $(CURDIR)/target/skips
export RMX_SKIPS = $(SKIPS)

.PHONY: all check lint lint-man demo test install install-files uninstall clean fuzz soak bench

all:
	RUSTFLAGS='$(STATIC_RUSTFLAGS)' $(CARGO) build --release --target $(HOST)

# Lints first, then the README's first command, tests last: the run ends
# with cargo test's summary, then the skips and the true count.
check: lint demo test
check: CHECKING = yes

# A lint whose tool is missing steps aside as a test does: a SKIP line
# naming what to install, or a failure under CI=true.
lint:
	@mkdir -p target && rm -f $(SKIPS)
	@if command -v $(MANDOC) >/dev/null; then $(MAKE) --no-print-directory lint-man; \
	else tests/skip 'make lint-man' mandoc 'apt-get install mandoc'; fi
	@if $(CARGO) fmt --version >/dev/null 2>&1; then set -x; $(CARGO) fmt --check; \
	else tests/skip 'make lint: cargo fmt' rustfmt 'rustup component add rustfmt'; fi
	@if $(CARGO) clippy --version >/dev/null 2>&1; then set -x; $(CARGO) clippy --all-targets -- -D warnings; \
	else tests/skip 'make lint: cargo clippy' clippy 'rustup component add clippy'; fi

test:
	@mkdir -p target $(if $(CHECKING),,&& rm -f $(SKIPS))
	@{ $(CARGO) test 2>&1; echo $$? >target/test-status; } | tee target/test-output
	@tests/summary target/test-output $(SKIPS) && exit $$(cat target/test-status)

# mandoc's STYLE messages are left out: "referenced manual not found"
# depends on the manuals a machine has (Debian has no qmail-smtpd(8)).
# groff, which man(1) uses on most systems, reads some words that mandoc
# lets pass as macros (a title word `No`) and then cuts the page short,
# exiting 0: any word it says on stderr is a failure.
MAN_PAGES = man/rmxsmtpd.8 man/rmxcheck.1 man/rmxpolicyd.8 man/rmxreport.1
lint-man:
	$(MANDOC) -T lint -W warning $(MAN_PAGES)
	@for page in $(MAN_PAGES); do \
		said=$$(groff -mandoc -ww -z "$$page" 2>&1 >/dev/null) || said="$$said (exit $$?)"; \
		if [ -n "$$said" ]; then echo "groff -mandoc -ww -z $$page:"; echo "$$said"; exit 1; fi >&2; \
	done

# A demo zone on loopback, and the real rmxsmtpd for three clients.
demo:
	$(CARGO) build --bin rmxsmtpd --example demo
	$(CARGO) run --quiet --example demo

# With cargo on PATH, a release build first (cargo does nothing when it is
# up to date); without it, as under `sudo make install`, or with one too old,
# what `make` built, with a warning if the sources changed since.
ifneq ($(HAVE_CARGO),)
install: all
endif
install:
	$(if $(HAVE_CARGO)$(if $(CARGO_VERSION),,none),,@echo 'make install: warning: cargo $(CARGO_VERSION) is older than rust-version $(RUST_VERSION): installing what make built' >&2)
	$(if $(HAVE_CARGO),,@if [ -n "$$(find src Cargo.toml -newer '$(BINARIES)/rmxsmtpd' 2>/dev/null | head -n 1)" ]; then \
	echo 'make install: warning: the sources changed since make built $(BINARIES); no cargo here that can build them again' >&2; fi)
	$(MAKE) install-files

# What install-files copies, and so what uninstall removes.
PROGRAMS = rmxsmtpd rmxcheck rmxpolicyd rmxreport
MAN1_PAGES = man/rmxcheck.1 man/rmxreport.1
MAN8_PAGES = man/rmxsmtpd.8 man/rmxpolicyd.8

# Installs what is already built, without cargo (tests/tree/install.rs runs
# it with BINARIES pointing at the binaries of `cargo test`).
install-files:
	@test -x '$(BINARIES)/rmxsmtpd' || { echo 'make install: nothing built and no cargo on PATH: run make first' >&2; exit 111; }
	install -d $(BINDIR) $(MAN1DIR) $(MAN8DIR)
	install -m 755 $(addprefix $(BINARIES)/,$(PROGRAMS)) $(BINDIR)
	install -m 644 $(MAN1_PAGES) $(MAN1DIR)
	install -m 644 $(MAN8_PAGES) $(MAN8DIR)

# The files install-files copied, and not the directories, which other
# packages share (PREFIX/bin, the man sections).
uninstall:
	rm -f $(addprefix $(BINDIR)/,$(PROGRAMS))
	rm -f $(addprefix $(MAN1DIR)/,$(notdir $(MAN1_PAGES)))
	rm -f $(addprefix $(MAN8DIR)/,$(notdir $(MAN8_PAGES)))

clean:
	$(CARGO) clean

# Hostile input, not part of CI. `make fuzz` runs each cargo-fuzz
# target for FUZZ_SECONDS on the nightly toolchain: seeds from
# fuzz/corpus/TARGET, new finds kept in fuzz/work/TARGET, crashes written to
# fuzz/artifacts/TARGET. `make soak` needs root (see soak/run).
FUZZ_SECONDS ?= 600
FUZZ_CARGO ?= cargo +nightly
FUZZ_TARGETS = reply session resolver

fuzz:
	for target in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/work/$$target && \
		(cd fuzz && $(FUZZ_CARGO) fuzz run $$target work/$$target corpus/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1) || exit 1; \
	done

soak:
	soak/run

# rmxsmtpd built for musl, whose C library has no start-up hook that hands
# argv to Rust's standard library, run through the argument tests. Not in
# CI: it needs `rustup target add x86_64-unknown-linux-musl`. A test target
# run alone gets no examples built, and the tests' reporter is one.
MUSL = x86_64-unknown-linux-musl
.PHONY: check-musl
check-musl:
	$(CARGO) build --bin rmxsmtpd --target $(MUSL)
	$(CARGO) build --example reporter
	RMXSMTPD_BIN=target/$(MUSL)/debug/rmxsmtpd $(CARGO) test --test rmxsmtpd argv::

# rmxsmtpd against rblsmtpd, then Postfix with and without rmxpolicyd,
# then rmxreport against mawk and gawk over a generated log, side by side;
# not part of CI: needs root and the Debian packages bench/run,
# bench/postfix and bench/report name. Prints the tables of bench/README.md.
bench:
	bench/run
	bench/postfix --no-build
	bench/report
