#!/usr/bin/env bash
# Runs the whole test suite: lint (ruff, import layers, ESLint), the scripts' unit tests (node --test), migrations
# check, pytest (browser tests and the provider conformance suite with its LiteLLM proxy included).
# Uses DATABASE_URL when set (PostgreSQL in CI), else SQLite; Redis on 127.0.0.1:6379 (started if down).
set -euo pipefail
cd "$(dirname "$0")/.."

export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export LITELLM_LOCAL_MODEL_COST_MAP=True
export DJANGO_DEBUG=true

if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    echo "starting redis-server"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    sleep 1
  fi
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi

# The LiteLLM proxy of tests/conformance runs from its own virtualenv, so the product's dependencies do not change;
# (re)created when missing or when its requirements changed (pip from the registry; one to three minutes).
PROXY_VENV=.venv-litellm-proxy
PROXY_REQUIREMENTS=tests/conformance/litellm-proxy-requirements.txt
PROXY_STAMP="$PROXY_VENV/requirements.sha256"
if [ ! -x "$PROXY_VENV/bin/litellm" ] || ! sha256sum --check --status "$PROXY_STAMP" 2>/dev/null; then
  echo "installing the LiteLLM proxy for the conformance tests into $PROXY_VENV"
  rm -rf "$PROXY_VENV"
  python3.11 -m venv "$PROXY_VENV" 2>/dev/null || python3 -m venv "$PROXY_VENV"
  "$PROXY_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PROXY_REQUIREMENTS"
  sha256sum "$PROXY_REQUIREMENTS" >"$PROXY_STAMP"
fi

ruff check .
lint-imports
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
npx eslint static/js static/evaluations
node --test static/js/tests/
python manage.py makemigrations --check --dry-run >/dev/null
python -m pytest "$@"
