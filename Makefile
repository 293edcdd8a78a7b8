# The two commands of the README, and the set-up they need.
#   make build  — build the tool in release mode for this CPU (.build/release/othello-gpt)
#   make demo   — build in release mode and run the main job: `othello-gpt study --quick` (study/report.md)
#   make tour   — a short tour of the other commands (tour-output/)
#   make test   — run the whole test suite (the browser tests need `make browser-deps`; without it they are skipped)
#   make docs   — build the modules' DocC catalogs (swift package generate-documentation; .build/plugins/Swift-DocC/outputs)
#   make fuzz   — build the fuzz targets (libFuzzer, AddressSanitizer) and run each for SECONDS (scripts/fuzz/run.sh)
SWIFT ?= swift
APT_PACKAGES = libopenblas-dev libpng-dev libfreetype-dev fonts-dejavu-core pkg-config

.PHONY: deps browser-deps build demo tour test bench fuzz docs

# Installs the system libraries when they are missing (Debian/Ubuntu).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Headless Chromium and chromedriver for the browser tests of the atlas's pages (Debian/Ubuntu).
BROWSER_PACKAGES = chromium chromium-driver
browser-deps:
	@missing=""; for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The release build is compiled for the CPU it is built on (`-target-cpu native`, as llm.c's `-march=native`),
# so that the element-wise kernels (GELU, softmax, layer norms) use its widest vectors: training is about 9%
# faster on the development machine, with the same results. `make build NATIVE=` builds a portable binary.
NATIVE ?= -Xswiftc -target-cpu -Xswiftc native

build: deps
	$(SWIFT) build -c release --product othello-gpt $(NATIVE)

demo: build
	./scripts/demo.sh $(ARGS)

tour: build
	./scripts/tour.sh

test: deps
	$(SWIFT) test --disable-swift-testing

bench: build
	.build/release/othello-gpt bench games

# Each fuzz target for SECONDS (CI: 3), or until RUNS executions; TARGETS="pickle pth" runs some of them.
SECONDS ?= 60
RUNS ?=
TARGETS ?=
fuzz: deps
	scripts/fuzz/run.sh --seconds $(SECONDS) $(if $(RUNS),--runs $(RUNS)) $(TARGETS)

# The modules' DocC catalogs (Sources/*/*.docc), one archive per module under .build/plugins/Swift-DocC/outputs.
# The library modules' DocC archives (.build/plugins/Swift-DocC/outputs/MODULE.doccarchive); the tool's own
# reference is docs/commands.md and `othello-gpt help`.
DOC_TARGETS = WorkbenchSupport OthelloRules OthelloModel OthelloTraining OthelloProbes OthelloInterventions OthelloSAEs \
	OthelloCircuits OthelloPlots OthelloReports OthelloBenchmarks OthelloAtlas
docs: deps
	$(SWIFT) package generate-documentation $(foreach t,$(DOC_TARGETS),--target $(t))
