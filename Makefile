# meshguard — a validating admission webhook that stops dangerous Istio configuration.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# The envtest control plane (kube-apiserver, etcd, kubectl), built from the Go
# module proxy on first use; KUBEBUILDER_ASSETS wins when it is set.
ASSETS     = $(shell hack/envtest-binaries.sh)
ISTIO_CRDS = $(shell hack/istio-crds.sh)
HELM       = $(shell hack/tools.sh helm)

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: build
build: ## Build bin/meshguard.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/meshguard ./cmd/meshguard

IMAGE ?= meshguard.local/meshguard:$(VERSION)

.PHONY: image
image: build ## Build the image the Dockerfile describes as an OCI archive, bin/meshguard-image.tar, from bin/meshguard (no engine, no base image pulled).
	$(GO) run ./hack/image --dockerfile Dockerfile --binary $(BIN)/meshguard --name $(IMAGE) -o $(BIN)/meshguard-image.tar

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -w cmd pkg test hack

.PHONY: lint
lint: ## Check formatting and run go vet.
	@unformatted=$$(gofmt -l cmd pkg test hack); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/

.PHONY: config
config: ## Render the kustomize base in config/ from the Helm chart.
	hack/render-config.sh > config/meshguard.yaml

.PHONY: helm-lint
helm-lint: ## Lint the chart strictly with its defaults and every ci/ values file.
	@helm=$$(hack/tools.sh helm); for v in "" charts/meshguard/ci/*-values.yaml; do \
	  $$helm lint --strict --kube-version 1.37.1 charts/meshguard $${v:+-f $$v}; done

.PHONY: readme-rules
readme-rules: ## Regenerate the README rule table from the catalogue.
	$(GO) run ./hack/readme-rules

##@ Test

.PHONY: envtest
envtest: ## Build the envtest binaries into bin/ (once; several minutes).
	@hack/envtest-binaries.sh

.PHONY: test
test: lint ## Run every test with the race detector: units, fixtures, check, chart, envtest integration.
	KUBEBUILDER_ASSETS="$(ASSETS)" ISTIO_CRDS="$(ISTIO_CRDS)" HELM="$(HELM)" $(GO) test -race -count=1 ./...
	@# The memory bound and the burst of creates under load run without the race detector, which inflates both.
	KUBEBUILDER_ASSETS="$(ASSETS)" ISTIO_CRDS="$(ISTIO_CRDS)" HELM="$(HELM)" $(GO) test -count=1 -run '^(TestParallelGiantReviewsStayBounded|TestParallelCreatesNeedingLiveReads)$$' ./test/integration/

MUTATE ?= ./pkg/engine ./pkg/paths ./pkg/mesh ./pkg/rules/peerauthentication ./pkg/rules/destinationrule ./pkg/rules/virtualservice ./pkg/rules/tlsmaterial

.PHONY: mutate
mutate: ## Mutation testing (gremlins) over MUTATE: per package, the killed share of covered mutants (efficacy) and the covered share (mutant coverage).
	@gremlins=$$(hack/tools.sh gremlins); for p in $(MUTATE); do echo "== $$p"; \
	  $$gremlins unleash --workers 1 --timeout-coefficient 4 -S lt $$p 2>&1 | grep -E 'LIVED|TIMED OUT|Killed:|Timed out:|efficacy|coverage' || exit 1; done

ORACLE_N ?= 2000
ORACLE_SEED ?=

.PHONY: oracle
oracle: ## Judge the conformance corpus and ORACLE_N seeded random meshes (default 2000, ~15 min) with meshguard and with istiod (test/oracle; first build ~10 min).
	cd test/oracle && ORACLE_N=$(ORACLE_N) ORACLE_SEED=$(ORACLE_SEED) $(GO) test -count=1 -timeout 120m -v \
	  -run '^(TestConformanceAgainstIstiod|TestRandomMeshesAgainstIstiod)$$' ./diff/

FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s): review decoding and evaluation, state files, the YAML fast path, TLS material.
	$(GO) test -run '^$$' -fuzz '^FuzzHandle$$' -fuzztime $(FUZZTIME) ./pkg/admission/
	$(GO) test -run '^$$' -fuzz '^FuzzReadFiles$$' -fuzztime $(FUZZTIME) ./pkg/state/manifest/
	$(GO) test -run '^$$' -fuzz '^FuzzFastYAMLToJSON$$' -fuzztime $(FUZZTIME) ./pkg/state/manifest/
	$(GO) test -run '^$$' -fuzz '^FuzzMaterial$$' -fuzztime $(FUZZTIME) ./pkg/trust/

.PHONY: bench
bench: ## Run the review-path benchmarks (100k pods in 1k namespaces), with the chart's GOGC.
	@# Reviews take microseconds to milliseconds, an audit cycle about a quarter
	@# of a second: each gets an iteration count that finishes in a minute or two.
	GOGC=200 $(GO) test -run '^$$' -bench . -skip '^Benchmark(Check|AuditCycle)$$' -benchmem -benchtime 5000x -count 3 ./test/bench/
	GOGC=200 $(GO) test -run '^$$' -bench '^BenchmarkAuditCycle$$' -benchmem -benchtime 20x -count 3 ./test/bench/

bench-check: ## Benchmark `meshguard check` end to end on 14k- and 104k-object exports (YAML documents, YAML List, JSON List).
	$(GO) test -run '^$$' -bench '^BenchmarkCheck$$' -benchtime 3x ./test/bench/

bench-cache: ## Time serve's cache to ready against an API server holding 20k pods, 2k Services, DestinationRules and VirtualServices.
	KUBEBUILDER_ASSETS="$(ASSETS)" ISTIO_CRDS="$(ISTIO_CRDS)" HELM="$(HELM)" $(GO) test -run '^$$' -bench '^BenchmarkServeCacheReady$$' -benchtime 3x -timeout 30m ./test/integration/

bench-vs-istioctl: ## Compare check with istioctl analyze on the same exports: wall time and peak RSS (builds istioctl once).
	hack/bench-vs-istioctl.sh

E2E_TIMEOUT ?= 40m

.PHONY: e2e
e2e: image ## Install the chart with the image on a real node here (kubelet, containerd, runc, CNI bridge) and check it end to end; needs root (~2 min here once built; the first build of the node binaries ~9 min more).
	hack/e2e-deps.sh
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/pause ./hack/pause
	$(GO) run ./hack/image --path /pause --user 65535:65535 --binary $(BIN)/pause --name meshguard.local/pause:e2e -o $(BIN)/pause-image.tar
	E2E_BIN="$$(hack/envtest-binaries.sh --node)" E2E_IMAGE="$(IMAGE)" E2E_IMAGE_ARCHIVE="$(BIN)/meshguard-image.tar" \
	  E2E_PAUSE_ARCHIVE="$(BIN)/pause-image.tar" ISTIO_CRDS="$(ISTIO_CRDS)" HELM="$(HELM)" \
	  $(GO) test -tags e2e -count=1 -v -timeout $(E2E_TIMEOUT) ./test/e2e/

##@ Pictures

# The picture the README shows: what removing a subset the canary still uses
# does to the paths to reviews, drawn by `meshguard paths -o dot`.
PICTURE_ARGS ?= --state test/fixtures/paths/state.yaml --host reviews.shop -f test/fixtures/paths/drop-v2.yaml

.PHONY: pictures
pictures: ## Render docs/paths.png from `meshguard paths -o dot` (Graphviz's dot: installed with apt-get when missing and run as root).
	@command -v dot >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "pictures: installing graphviz" >&2; apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	  else echo "pictures: needs Graphviz's dot (apt-get install graphviz)" >&2; exit 1; fi; }
	@# Exit code 1 is expected: the writes break paths, which is what is drawn.
	@mkdir -p docs; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; $(GO) build -o $$tmp/meshguard ./cmd/meshguard; \
	  rc=0; $$tmp/meshguard paths $(PICTURE_ARGS) -o dot > $$tmp/paths.dot || rc=$$?; [ $$rc -le 1 ] || exit $$rc; \
	  dot -Tpng -Gdpi=96 $$tmp/paths.dot -o docs/paths.png; echo "pictures: docs/paths.png"

.PHONY: test-pictures
test-pictures: ## The pictures' tests: golden files of paths and check -o markdown, DOT through gonum's parser, mermaid through mermaid-cli (hack/mermaid-cli.sh installs it and Chromium).
	mmdc=$$(hack/mermaid-cli.sh); MMDC=$$mmdc MMDC_PUPPETEER_CONFIG=$$(dirname $$(dirname $$(dirname $$mmdc)))/puppeteer.json \
	  $(GO) test -count=1 -v -run '^(TestGolden|TestDOTParses|TestMermaid|TestCheckMarkdown)$$' ./pkg/pathview/ | grep -E '^(---|===|ok|FAIL|PASS)' | grep -v '=== RUN'

##@ Demo

.PHONY: demo
demo: build ## Show the webhook blocking the outages it exists for (STRICT, canary, subsets, retries, gateways, authorization, Gateway API, trust) with kubectl on a local control plane.
	KUBEBUILDER_ASSETS="$(ASSETS)" $(GO) run ./hack/demo --assets "$(ASSETS)" --crds "$(ISTIO_CRDS) $$(hack/optional-crds.sh | grep -v monitoring.coreos.com)" --meshguard $(BIN)/meshguard
