#!/usr/bin/env bash
# Set up MR Studio in a virtual environment. Idempotent; re-runs only what changed.
#   scripts/setup.sh          runtime: venv, torch, the project, Qt runtime libraries
#   scripts/setup.sh --test   also the test tools (dciodvfy from dicom3tools, BART, dcmtk and GDCM's
#                             command-line tools, which re-encode and index DICOM in the tests,
#                             mricron-data: the real MR volumes the real-anatomy cines are made from,
#                             orthanc and its DICOMweb plugin: the PACS the pacs tests talk to)
# TORCH_SPEC chooses the torch build (default torch==2.13.0, the CPU wheel here);
# e.g. TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128".
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# Debian packages: Qt's runtime libraries (xcb platform plugin, EGL, fonts), test peers.
debs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0
      libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
      libxcb-image0)
[ $want_test = 1 ] && debs+=(dicom3tools bart dcmtk libgdcm-tools mricron-data orthanc orthanc-dicomweb)
if command -v dpkg >/dev/null 2>&1; then
  missing=()
  for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing Debian packages: ${missing[*]}"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null) || echo "setup: warning: could not install ${missing[*]}" >&2
    else
      echo "setup: note: missing Debian packages (install them as root): ${missing[*]}" >&2
    fi
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.mrstudio-setup"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$(cat "$stamp")" != "$TORCH_SPEC" ]; then
  # torch first, so that resolving the project never pulls a multi-GB CUDA build
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check $TORCH_SPEC
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
  echo "$TORCH_SPEC" > "$stamp"
fi
