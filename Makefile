# raftkv: build, test, images and a local Docker cluster. `make help` lists the targets.
# Scripts in scripts/ do the work; this file only wires them up.

SHELL := /bin/bash
.DEFAULT_GOAL := help

MVN ?= ./mvnw -B
# Image for cluster-up/cluster-logs: raftkv:jvm or raftkv:native.
IMAGE ?= raftkv:jvm
# Base images; empty = the Dockerfile's public base when it can be had, else the local one (see scripts/image.sh).
BASE_JVM ?=
BASE_NATIVE ?=
# make run NATIVE=1: the local cluster runs the native executable (target/*-runner, from `make native`).
NATIVE ?=

export IMAGE BASE_JVM BASE_NATIVE NATIVE

.PHONY: help build test run stop demo lab-files bench bench-snapshot docker-engine base-images image native \
        cluster-up cluster-down cluster-logs cluster-status clean

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## compile and package (target/quarkus-app), no tests
	$(MVN) package -DskipTests

test: ## the full test run: docker engine, base images, unit tests + package, raftkv:jvm, integration tests
	scripts/test.sh

run: ## start a 3-node cluster of local JVMs on ports 8001-8003 (NATIVE=1: the native executable)
	bash scripts/cluster-local.sh start

stop: ## stop the local cluster started by `make run`
	bash scripts/cluster-local.sh stop

demo: ## the Raft lab, narrated and checked against the local cluster: replicate, SIGKILL the leader, re-elect, catch up
	bash scripts/demo.sh

lab-files: ## every local node's files, readable, in data/lab-files/ (nodeN.log.txt, .storage.txt, .state_machine.txt, .events.log)
	bash scripts/lab-files.sh

docker-engine: ## make sure a Docker engine runs (installs and starts dockerd when root and needed)
	scripts/docker-engine.sh

base-images: docker-engine ## build raftkv/base-jre:local and raftkv/base-native:local without a registry (FORCE=1 rebuilds)
	scripts/base-images.sh

image: docker-engine ## build the JVM image raftkv:jvm (packages first if target/quarkus-app is missing)
	@[ -f target/quarkus-app/quarkus-run.jar ] || $(MAKE) --no-print-directory build
	scripts/image.sh jvm

native: docker-engine ## native executable + raftkv:native (GRAALVM_HOME, native-image, ../shared/native-image, else container build)
	scripts/native.sh

cluster-up: docker-engine ## start node1..node3 from IMAGE (raftkv:jvm) on network raftkv-net, client ports 127.0.0.1:8101-8103
	scripts/cluster-docker.sh up

cluster-down: ## remove the Docker cluster's containers, network and volumes (KEEP_DATA=1 keeps the volumes)
	scripts/cluster-docker.sh down

cluster-logs: ## show the Docker cluster's logs (FOLLOW=1 to follow, TAIL=n lines)
	scripts/cluster-docker.sh logs

cluster-status: ## show the Docker cluster's containers and each node's /v1/status
	scripts/cluster-docker.sh status

bench: ## raftkv vs etcd 3.4 on this machine, same workloads (bench/run.sh; QUICK=1 for a 2-minute smoke run)
	bash bench/run.sh $(if $(QUICK),--quick,)

bench-snapshot: ## write p99 with and without snapshots of 1M keys being taken (bench/snapshot-latency.sh; BENCH_NATIVE=path)
	bash bench/snapshot-latency.sh

clean: ## remove build output (target/)
	$(MVN) -q clean

# ---- Helm chart (helm/raftkv) -----------------------------------------------------------------------------------
# helm from the PATH when there is one; else helm-lint and helm-template use the helm that helm-java bundles,
# through io.raftkv.helm.HelmCli on the test classpath (no helm binary needed, as on our build machines).
HELM ?= helm
HELM_CHART := helm/raftkv
HELM_RELEASE ?= raftkv
HELM_NAMESPACE ?= raftkv
# Extra helm flags, e.g. HELM_ARGS="--set replicaCount=5 --set image.repository=registry.example.com/raftkv"
HELM_ARGS ?=
HELM_JAVA = java -cp "target/test-classes:$$(cat target/helm-classpath.txt)" io.raftkv.helm.HelmCli

.PHONY: helm-lint helm-template helm-install helm-java

helm-lint: ## lint the Helm chart helm/raftkv (--strict; helm on the PATH, else helm-java's bundled helm)
	@if command -v $(HELM) >/dev/null 2>&1; then $(HELM) lint --strict $(HELM_CHART) $(HELM_ARGS); \
	else $(MAKE) --no-print-directory helm-java && $(HELM_JAVA) lint --strict $(HELM_CHART); fi

helm-template: ## render the chart to stdout (HELM_RELEASE, HELM_NAMESPACE, HELM_ARGS="--set k=v ...")
	@if command -v $(HELM) >/dev/null 2>&1; then \
	  $(HELM) template $(HELM_RELEASE) $(HELM_CHART) --namespace $(HELM_NAMESPACE) $(HELM_ARGS); \
	else $(MAKE) --no-print-directory helm-java >&2 && \
	  $(HELM_JAVA) template $(HELM_RELEASE) $(HELM_CHART) --namespace $(HELM_NAMESPACE) $(HELM_ARGS); fi

helm-install: ## install/upgrade the chart in the current kubectl context (needs helm + a cluster), wait, `helm test`
	@command -v $(HELM) >/dev/null 2>&1 || { echo "helm-install needs the helm CLI and a Kubernetes cluster" >&2; exit 1; }
	$(HELM) upgrade --install $(HELM_RELEASE) $(HELM_CHART) --namespace $(HELM_NAMESPACE) --create-namespace \
	  --wait --timeout 5m $(HELM_ARGS)
	$(HELM) test $(HELM_RELEASE) --namespace $(HELM_NAMESPACE) --logs

# The helm-java fallback: the compiled test classes and the test classpath.
helm-java: target/helm-classpath.txt
	@[ -f target/test-classes/io/raftkv/helm/HelmCli.class ] || $(MVN) -q test-compile

target/helm-classpath.txt: pom.xml
	$(MVN) -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
	  -Dmdep.includeScope=test -Dmdep.outputFile=$@
