#!/usr/bin/env bash
# Builds missive and runs the whole test suite: unit tests, integration tests against real
# Postfix and smtp-sink (started and stopped by ctest fixtures), the layering check and the
# install test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --workflow --preset ci
