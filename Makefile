# Java multi-threading patterns. Two commands do everything: `make run`, `make test`.
# Each target is a small script in tools/; they install what they need on first use
# into .tools/ (git-ignored), and Debian packages with apt-get when run as root.

.PHONY: help run test unit notebooks diagrams slides check selftest soak kernel verify-notebooks verify-diagrams stress

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

run: ## run every lesson script through JBang (RUN_JOBS=2, RUN_TIMEOUT=180, RUN_ARGS=..., V=1)
	@tools/run-scripts

test: ## the whole suite, as CI runs it, with the time each step took
	@tools/test-all

unit: ## the JUnit tests (Maven Surefire)
	@tools/unit-tests

notebooks: ## regenerate notebooks, README table and catalog from the scripts; execute them
	@tools/notebooks

diagrams: ## render each changed diagrams/*.mmd to SVG and PNG (tools/diagrams --all: every one)
	@tools/diagrams

slides: ## build a reveal.js deck per lesson into .tools/slides/ (offline; S: speaker notes)
	@tools/slides

check: ## fast: is every generated file current with its source?
	@tools/check

selftest: ## prove the suite's guards fail when they should
	@tools/selftest

soak: ## start the Java kernel N times and check every channel (N=100)
	@tools/kernel-soak $(or $(N),100)

kernel: ## install the Java kernel for Jupyter into .tools/jupyter (see README)
	@bash -c 'source tools/lib.sh && use_jdk && need_python_jupyter && ensure_kernel' && \
	  echo "kernel 'java' ready: JUPYTER_PATH=.tools/jupyter jupyter lab"

verify-notebooks: ## execute every notebook on the Java kernel, keep nothing
	@tools/notebooks --verify

verify-diagrams: ## render every diagram into a scratch folder, keep nothing
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && tools/diagrams --into "$$d/diagrams"

stress: ## the jcstress lesson's tests, every table, a few minutes (ARGS: other jcstress options)
	@tools/stress $(ARGS)
