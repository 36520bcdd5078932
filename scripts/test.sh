#!/usr/bin/env bash
# Runs the whole test suite: lint (ruff, import layers, ESLint), the scripts' unit tests (node --test), migrations
# check, pytest (browser tests included).
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

ruff check .
lint-imports
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
npx eslint static/js static/evaluations
node --test static/js/tests/
python manage.py makemigrations --check --dry-run >/dev/null
python -m pytest "$@"
