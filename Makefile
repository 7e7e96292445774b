PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CUSTINFO_STORE ?= ./custinfo_store

.PHONY: venv install demo test bench lint clean

venv: $(STAMP)
install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,spark]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(CUSTINFO_STORE)
	$(BIN)/custinfo ingest samples/web_form.csv --channel web_form
	$(BIN)/custinfo ingest samples/call_center.csv --channel call_center
	$(BIN)/custinfo ingest samples/trade_show.xlsx --channel trade_show
	$(BIN)/custinfo ingest samples/crm.xlsx --channel crm
	$(BIN)/custinfo ingest samples/purchased_list.csv --channel purchased_list
	$(BIN)/custinfo report summary

test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	$(BIN)/python bench/normalize.py

lint: $(STAMP)
	$(BIN)/pip install -q ruff
	$(BIN)/ruff check custinfo tests bench

clean:
	rm -rf $(VENV) $(CUSTINFO_STORE) build *.egg-info
