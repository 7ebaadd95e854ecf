# ja3echo — `make help` lists the targets.
SHELL    := /bin/bash
# A failing benchmark run piped into tee must still fail make.
.SHELLFLAGS := -o pipefail -c
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
ARGS     ?=
FUZZTIME ?= 30s
BENCHTIME ?= 1s

export GOFLAGS ?= -mod=mod

.PHONY: help build run test vet fuzz bench bench-full certs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/ja3echo
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/ja3echo ./cmd/ja3echo

run: build ## serve on https://localhost:4443 (self-signed cert unless certs/ has one); ARGS="--debug" adds flags
	./bin/ja3echo $(ARGS)

vet: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

test: vet ## vet + all tests with -race (end-to-end tests included)
	$(GO) test -race -count=1 -timeout 20m ./...

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

bench: ## Go micro-benchmarks (BENCHTIME, default 1s) and a short side-by-side against net/http (~1 min)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...
	$(GO) run ./bench/cmd/sidebyside -short

bench-full: ## the whole protocol of bench/README.md: side-by-side at c=1,8,64,256, X25519 client, idle memory (~15 min)
	mkdir -p bench/results
	$(GO) run ./bench/cmd/sidebyside | tee bench/results/sidebyside-default.txt
	$(GO) run ./bench/cmd/sidebyside -c 64 -curves x25519 | tee bench/results/sidebyside-x25519.txt
	$(GO) run ./bench/cmd/idlemem -n 19500 | tee bench/results/idlemem.txt

certs: ## make an ECDSA P-256 pair in certs/ with openssl (self-signed, for localhost)
	mkdir -p certs
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
	  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
	  -keyout certs/privkey.pem -out certs/fullchain.pem

clean: ## remove build output
	rm -rf bin
