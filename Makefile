# The two commands of the README are `make demo` and `make test`; both
# install missing Debian packages first (make deps) and build.
#
#   make            build into build/ (engine, sylva.so, sylva)
#   make deps       install missing Debian packages (apt-get, as root)
#   make test       build and run every test (cmocka + Lua) through ctest
#   make test SANITIZE=1   the same under ASan + UBSan (in build-san/)
#   make demo       run the HER2 study on the bundled cohort
#   make bench      benchmarks against the peers, ratios in the same run
#   make cohort     regenerate the bundled HER2 cohort (examples/her2/data)
#   make install PREFIX=/usr/local
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each (60)
#   make memcheck   the Lua tests under valgrind memcheck (leaks = failure)
SANITIZE ?= 0
PREFIX ?= /usr/local
JOBS ?= 2

ifeq ($(SANITIZE),1)
BUILD ?= build-san
CMAKE_FLAGS = -DSYLVA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD ?= build
CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=Release
endif

SYLVA = $(BUILD)/sylva

.PHONY: all build deps configure test demo bench install clean cohort fuzz memcheck

all: build

deps:
	@sh tools/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: deps
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The HER2 study of docs/tutorial.md on the bundled two-centre cohort;
# the report goes to out/her2/ (report.html, report.md, tables, figures).
# The study is a spec run by `sylva study` (docs/study.md).
demo: deps
	$(MAKE) build
	$(SYLVA) study examples/her2/study.lua

# The peers measured beside sylva (R, ranger, pROC, survival, pandas,
# scikit-learn, xgboost) are installed by `make bench` only.
BENCH_PKGS = r-base-core r-cran-survival r-cran-riskregression r-cran-proc r-cran-ranger python3-pandas python3-sklearn python3-xgboost

bench: deps
	@sh tools/deps.sh $(BENCH_PKGS)
	$(MAKE) build
	$(SYLVA) bench/run.lua

# Regenerates the bundled HER2 cohort (examples/her2/data/*.csv) byte-identically.
cohort:
	$(MAKE) build
	$(SYLVA) examples/her2/make_cohort.lua

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Fuzzing: clang's libFuzzer with ASan + UBSan, build dir build-fuzz/.
# Each harness tests/fuzz/fuzz_<name>.c runs FUZZ_SECONDS from its seed
# corpus tests/fuzz/corpus/<name>/; new inputs go to build-fuzz/corpus/,
# crashes to build-fuzz/crashes/ (and fail the target).
FUZZ_SECONDS ?= 60
FUZZ_PKGS = clang libclang-rt-14-dev

fuzz: deps
	@sh tools/deps.sh $(FUZZ_PKGS)
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSYLVA_FUZZ=ON \
	  -DSYLVA_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz --target fuzzers -j $(JOBS)
	sh tools/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZERS)

# The Lua and C tests of the ordinary build under valgrind memcheck.
memcheck: deps
	@sh tools/deps.sh valgrind
	$(MAKE) build
	sh tools/memcheck.sh build

clean:
	rm -rf build build-san build-fuzz
