# todo-fcgi: a per-user task API as a FastCGI program behind nginx.
#
#   make run     install what is missing, build, start the local stack
#   make test    unit, API and fault tests (ASan + UBSan) on a throwaway stack
#   make stop    stop the local stack
# Put your own overrides in Makefile.local.

# Where `make install` puts things; DESTDIR for staged installs.
PREFIX ?= /usr/local
DESTDIR ?=
# Tests use Debian's interpreter: its pytest and requests live there.
PYTHON ?= /usr/bin/python3
CC ?= cc
# Libraries, found by pkg-config (libpq has no .pc file on every system).
LIBS_PC := json-c libcrypto libargon2
PKG_CFLAGS := $(shell pkg-config --cflags $(LIBS_PC) 2>/dev/null) -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
PKG_LIBS := $(shell pkg-config --libs $(LIBS_PC) 2>/dev/null) -lpq -lfcgi
# One strict warning set; Debian's hardening flags.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(PKG_CFLAGS)
# The sanitizer build `make test` uses.
SAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

-include Makefile.local

# common/ is the library (the database part included) the tests link; access/
# (keys and the bearer-token check) stands on it; cgi/ (the program) on both.
SRC_COMMON := $(wildcard common/*.c)
SRC_ACCESS := $(wildcard access/*.c)
SRC_CGI := $(wildcard cgi/*.c)
HDRS := $(wildcard common/*.h access/*.h cgi/*.h)
UNIT := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

BIN := build/todo-fcgi
ASAN_BIN := build/asan/todo-fcgi
# Objects of each build: build/obj (release) and build/asan/obj (sanitizers).
OBJ_COMMON := $(patsubst %.c,build/obj/%.o,$(SRC_COMMON))
OBJ_ACCESS := $(patsubst %.c,build/obj/%.o,$(SRC_ACCESS))
OBJ_CGI := $(patsubst %.c,build/obj/%.o,$(SRC_CGI))
ASAN_COMMON := $(patsubst %.c,build/asan/obj/%.o,$(SRC_COMMON))
ASAN_ACCESS := $(patsubst %.c,build/asan/obj/%.o,$(SRC_ACCESS))
ASAN_CGI := $(patsubst %.c,build/asan/obj/%.o,$(SRC_CGI))

.SECONDARY:

.PHONY: all deps web run stop status token migrate test test-ha unit lint api valgrind fuzz bench bench-scale bench-load soak fresh-check install uninstall clean

all: $(BIN) web

# The pinned npm packages: Swagger UI for /docs, the OpenAPI linter,
# Playwright for the browser tests.  Installed again when the lock changes.
NODE_STAMP := node_modules/.package-lock.json
web: $(NODE_STAMP)
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

build/obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIE $(HARDEN_CFLAGS) -DSCHEMA_DIR='"$(PREFIX)/share/todo-fcgi/schema"' -c $< -o $@

# main.c has the schema directory under PREFIX built in: a build for another
# PREFIX (make install PREFIX=/usr after make) compiles it again.
PREFIX_STAMP := build/obj/prefix
ifneq ($(file <$(PREFIX_STAMP)),$(PREFIX))
$(shell mkdir -p $(dir $(PREFIX_STAMP)))
$(file >$(PREFIX_STAMP),$(PREFIX))
endif
build/obj/cgi/main.o: $(PREFIX_STAMP)

build/asan/obj/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -Icommon -c $< -o $@

# The unit tests' own shared headers (fixtures, token helpers).
$(patsubst %,build/asan/obj/tests/unit/%.o,$(UNIT)): $(wildcard tests/unit/*.h)

$(BIN): $(OBJ_COMMON) $(OBJ_ACCESS) $(OBJ_CGI)
	$(CC) $(ALL_CFLAGS) $(HARDEN_LDFLAGS) $^ -o $@ $(PKG_LIBS)

$(ASAN_BIN): $(ASAN_COMMON) $(ASAN_ACCESS) $(ASAN_CGI)
	$(CC) $(SAN) $^ -o $@ $(PKG_LIBS)

build/asan/test_%: build/asan/obj/tests/unit/test_%.o $(ASAN_COMMON)
	$(CC) $(SAN) $^ -o $@ $(PKG_LIBS) -lcmocka $(TEST_LIBS)

# libjwt 1.10 is a second opinion on our JWT signatures (tests/oracle) in
# test_libjwt and the fuzzer only; the program never links it (DESIGN.md).
LIBJWT_LIBS := $(shell pkg-config --libs libjwt 2>/dev/null || echo -ljwt)
ORACLE_SRC := tests/oracle/oracle.c tests/oracle/oracle_libjwt.c
build/asan/test_libjwt: $(patsubst %.c,build/asan/obj/%.o,$(ORACLE_SRC))
build/asan/test_libjwt: TEST_LIBS = $(LIBJWT_LIBS)
build/asan/obj/tests/unit/test_libjwt.o build/asan/obj/tests/oracle/oracle.o: tests/oracle/oracle.h
# Without -Icommon: libjwt's <jwt.h> and ours share a name.
build/asan/obj/tests/oracle/oracle_libjwt.o: tests/oracle/oracle_libjwt.c tests/oracle/oracle.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

deps:
	@deploy/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@TODO_BIN=$(CURDIR)/$(BIN) deploy/stack.sh start

stop:
	@deploy/stack.sh stop

# A stopped stack is an answer, not a failure: stack.sh's 3 (stopped) is
# make's success; a partly running stack still fails.
status:
	@deploy/stack.sh status || [ $$? -eq 3 ]

# Prints a development token for USER (default alice) with the stack's secret.
token: $(BIN)
	@set -a; . $${STATE_DIR:-var}/stack.env; set +a; $(BIN) --token $${USER_ID:-$(or $(USER),alice)}

unit: $(addprefix build/asan/,$(UNIT))
	@for t in $^; do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t || exit 1; done

# The OpenAPI document, through Redocly's linter: zero errors.
lint: $(NODE_STAMP)
	@tests/openapi/lint.sh

# API tests through nginx, then the browser tests on the same stack, then the
# fault tests of a scaled-out set-up beside it (tests/ha: under a minute of
# the 3 to 4 the whole takes).  test_db (the connection's C tests) runs there
# against the stack's database.
api: $(ASAN_BIN) build/asan/test_db $(NODE_STAMP)
	@PYTHON=$(PYTHON) TODO_BIN=$(CURDIR)/$(ASAN_BIN) BROWSER_TESTS=1 HA_TESTS=1 tests/run-api.sh

test: deps
	@$(MAKE) --no-print-directory unit lint api

# The fault tests alone (make test runs them too), and their counts: two app
# pools behind one nginx losing one, a pg_auto_failover formation losing its
# primary (tests/ha). Their own throwaway stack, so a `make test` may run
# meanwhile (on another HTTP_PORT). About a minute.
test-ha: deps $(ASAN_BIN)
	@PYTHON=$(PYTHON) TODO_BIN=$(CURDIR)/$(ASAN_BIN) STATE_DIR=$(CURDIR)/build/test-ha-stack \
		API_TESTS=0 HA_TESTS=1 tests/run-api.sh

valgrind: deps $(BIN) build/asan/test_db
	@PYTHON=$(PYTHON) TODO_BIN=$(CURDIR)/$(BIN) \
		WORKER_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
		tests/run-api.sh

# Throughput and latency through the real stack (release build) with wrk,
# against pgbench on the same database; instructions per request (callgrind);
# worker memory.  bench-scale: a user with 100 tasks against one with 100,000.
# bench-load: 32, 256 and 1,000 connections.  soak: the mix for SOAK_SECONDS
# (3600) with memory sampled, a table and build/soak/soak.png.
bench bench-scale bench-load soak: deps $(BIN)
	@PYTHON=$(PYTHON) TODO_BIN=$(CURDIR)/$(BIN) tests/bench/run.sh \
		$(patsubst bench,table,$(patsubst bench-%,%,$@))

# The README's make run and make test, as root, on a fresh debootstrap of
# Debian 12 under build/fresh (tests/fresh/debian12.sh). By hand, not in test.
fresh-check:
	@tests/fresh/debian12.sh

# libFuzzer over every parser of client bytes, FUZZ_SECONDS per parser seed;
# tokens also go to libjwt (tests/oracle).  New inputs go to build/fuzz/corpus;
# tests/fuzz/seeds holds good tokens to start from.
FUZZ_SECONDS ?= 60
fuzz:
	@mkdir -p build/fuzz/corpus
	clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
		tests/fuzz/fuzz_parsers.c $(SRC_COMMON) $(ORACLE_SRC) -o build/fuzz/fuzz_parsers \
		$(PKG_LIBS) $(LIBJWT_LIBS)
	build/fuzz/fuzz_parsers -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus tests/fuzz/seeds

# The program, schema, systemd units and example configuration (README.md,
# deploy/README.md). PREFIX also sets the default --schema-dir (main.o is
# rebuilt when it changes). Paths inside the units and examples follow PREFIX.
# SYSTEMD_UNIT_DIR and SYSUSERS_DIR may be set apart (systemd also reads
# /usr/local/lib/systemd/system). When present, web/, openapi/openapi.json and
# npm's swagger-ui-dist go where nginx.conf.example looks for them.
install uninstall: SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
install uninstall: SYSUSERS_DIR ?= $(PREFIX)/lib/sysusers.d
install uninstall: SHARE = $(DESTDIR)$(PREFIX)/share/todo-fcgi
install uninstall: DOC = $(DESTDIR)$(PREFIX)/share/doc/todo-fcgi
install: $(BIN) web
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/schema $(SHARE)/nginx $(SHARE)/apache \
		$(DOC) $(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(SYSUSERS_DIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/todo-fcgi
	install -m 644 schema/*.sql $(SHARE)/schema/
	install -m 644 deploy/env.example deploy/roles.sql $(SHARE)/
	for f in deploy/systemd/todo-fcgi.socket deploy/systemd/todo-fcgi.service \
		nginx.conf.example deploy/nginx/*.conf deploy/spawn-fcgi.example deploy/apache/*; do \
		case $$f in */systemd/*) d=$(DESTDIR)$(SYSTEMD_UNIT_DIR) ;; */nginx/*) d=$(SHARE)/nginx ;; \
			*/apache/*) d=$(SHARE)/apache ;; *) d=$(SHARE) ;; esac; \
		sed 's#/usr/local/#$(PREFIX)/#g' $$f >$$d/$${f##*/} && chmod 644 $$d/$${f##*/} || exit 1; \
	done
	chmod 755 $(SHARE)/spawn-fcgi.example $(SHARE)/apache/todo.cgi.example
	install -m 644 deploy/systemd/todo-fcgi.sysusers $(DESTDIR)$(SYSUSERS_DIR)/todo-fcgi.conf
	install -m 644 README.md $(DOC)/README.md
	install -m 644 deploy/README.md $(DOC)/DEPLOY.md
	if [ -f openapi/openapi.json ]; then install -m 644 openapi/openapi.json $(SHARE)/; fi
	for d in web:web node_modules/swagger-ui-dist:swagger-ui; do \
		if [ -d $${d%%:*} ]; then rm -rf $(SHARE)/$${d#*:} && cp -R $${d%%:*} $(SHARE)/$${d#*:} && \
			find $(SHARE)/$${d#*:} -name '*.map' -delete && \
			chmod -R u=rwX,go=rX $(SHARE)/$${d#*:} || exit 1; fi; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/todo-fcgi $(DESTDIR)$(SYSUSERS_DIR)/todo-fcgi.conf \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/todo-fcgi.socket $(DESTDIR)$(SYSTEMD_UNIT_DIR)/todo-fcgi.service
	rm -rf $(SHARE) $(DOC)

clean:
	rm -rf build
