#!/usr/bin/env bash
# Prepare ansible-test (ansible-core) to run `sanity` / `units` without reaching
# the host it downloads its get-pip bootstrap script from.
#
# ansible-test builds its own virtual environments (always with --venv, and for
# most sanity tests in any mode) and bootstraps pip into them by running
# ~/.ansible/test/cache/get_pip_<X_Y>.py, which it downloads on first use. That
# download fails on machines that only reach PyPI. This script:
#   1. asks the installed ansible-test which pip version it bootstraps
#      (falls back to 24.2 if that cannot be read from its source),
#   2. puts pip-<ver>-py3-none-any.whl into ~/.ansible/test/cache/ (from PyPI,
#      `pip download`), and
#   3. writes a small get_pip_<X_Y>.py next to it that installs pip from that
#      wheel (plus whatever else ansible-test asks for), the way the real
#      get-pip.py would.
#   4. optionally (--pythons-dir DIR) fills DIR with python3.X symlinks to the
#      pyenv interpreters, so ansible-test finds real interpreters instead of
#      pyenv shims, and prints the PATH line to use.
#
# Idempotent: re-running it only fixes what is missing or stale.
# See tests/utils/README.md for usage.
set -euo pipefail

PROG=${0##*/}
FALLBACK_PIP_VERSION=24.2
DEFAULT_PY_VERSIONS="3.9 3.10 3.11 3.12 3.13"

usage() {
    cat <<EOF
Usage: $PROG [PYTHON] [options]

PYTHON is the Python of the venv that has ansible-core (ansible-test) installed;
it can also be given as \$PYTHON. Default: the first python3 on PATH.

Options:
  --pythons-dir DIR     create DIR with python3.X symlinks to every pyenv
                        interpreter found for the versions below, and print
                        'export PATH="DIR:\$PATH"' on stdout (use with eval)
  --py-versions "V..."  versions for --pythons-dir (default: "$DEFAULT_PY_VERSIONS")
  --check               also bootstrap pip into a throwaway venv with the
                        prepared files, to prove they work
  --force               overwrite a get_pip_*.py not written by this script
  -q, --quiet           only print errors (and the PATH line)
  -h, --help            show this help

All messages go to stderr; stdout carries only the PATH line, so
  eval "\$($PROG .venv/bin/python --pythons-dir /tmp/ansible-test-pythons)"
works.
EOF
}

QUIET=0
log() { [[ $QUIET == 1 ]] || printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

PY=${PYTHON:-}
PYTHONS_DIR=
PY_VERSIONS=$DEFAULT_PY_VERSIONS
CHECK=0
FORCE=0

while (($#)); do
    case $1 in
        --pythons-dir) [[ $# -ge 2 ]] || die "--pythons-dir needs a directory"; PYTHONS_DIR=$2; shift 2 ;;
        --pythons-dir=*) PYTHONS_DIR=${1#*=}; shift ;;
        --py-versions) [[ $# -ge 2 ]] || die "--py-versions needs a list"; PY_VERSIONS=$2; shift 2 ;;
        --py-versions=*) PY_VERSIONS=${1#*=}; shift ;;
        --python) [[ $# -ge 2 ]] || die "--python needs a path"; PY=$2; shift 2 ;;
        --python=*) PY=${1#*=}; shift ;;
        --check) CHECK=1; shift ;;
        --force) FORCE=1; shift ;;
        -q|--quiet) QUIET=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option: $1" ;;
        *) PY=$1; shift ;;
    esac
done

if [[ -z $PY ]]; then
    PY=$(command -v python3 || true)
    [[ -n $PY ]] || die "no Python given (argument or \$PYTHON) and no python3 on PATH"
fi
if [[ $PY != */* ]]; then
    _py=$PY
    PY=$(command -v "$_py" || true)
    [[ -n $PY ]] || die "Python '$_py' not found on PATH"
fi
[[ -x $PY ]] || die "not an executable: $PY"

"$PY" -c 'import ansible_test' 2>/dev/null \
    || die "$PY cannot import ansible_test: give the Python of the venv where ansible-core is installed"

# ---------------------------------------------------------------------------
# 1. Which pip version(s) does this ansible-test bootstrap?
# ---------------------------------------------------------------------------
# First ask ansible-test itself (get_venv_packages() for every Python version it
# supports); if its internals moved, read the version literal(s) out of the
# source of get_venv_packages(); if that fails too, use the fallback.
detect_pip_versions() {
    "$PY" - <<'PYEOF'
import os, re, sys, types, importlib.util

versions = set()
try:
    from ansible_test._util.target.common import constants
    pythons = list(constants.REMOTE_ONLY_PYTHON_VERSIONS) + list(constants.CONTROLLER_PYTHON_VERSIONS)
    from ansible_test._internal.python_requirements import get_venv_packages
    for v in pythons:
        pip = get_venv_packages(types.SimpleNamespace(version=v)).get('pip')
        if pip:
            versions.add(pip)
except Exception as ex:  # pragma: no cover - depends on ansible-test internals
    sys.stderr.write('note: could not call get_venv_packages (%s); reading the source instead\n' % ex)

if not versions:
    try:
        spec = importlib.util.find_spec('ansible_test')
        base = list(spec.submodule_search_locations)[0]
        src = open(os.path.join(base, '_internal', 'python_requirements.py')).read()
        m = re.search(r'def get_venv_packages\(.*?(?=\ndef )', src, re.S)
        body = m.group(0) if m else src
        versions.update(re.findall(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", body))
        versions.update(re.findall(r"""['"]pip['"]\s*:\s*['"]([0-9][0-9.]*)['"]""", body))
    except Exception as ex:
        sys.stderr.write('note: could not read ansible-test source (%s)\n' % ex)

for v in sorted(versions):
    print(v)
PYEOF
}

# The cache path and script name ansible-test uses (requirements.py:bootstrap):
#   os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % pip_version.replace(".", "_"))
CACHE_DIR=$("$PY" -c 'import os; print(os.path.expanduser("~/.ansible/test/cache"))')

check_bootstrap_source() {
    "$PY" - <<'PYEOF'
import importlib.util, os
base = list(importlib.util.find_spec('ansible_test').submodule_search_locations)[0]
path = os.path.join(base, '_util', 'target', 'setup', 'requirements.py')
try:
    src = open(path).read()
except OSError:
    src = ''
ok = "~/.ansible/test/cache/get_pip_%s.py" in src and 'GET_PIP' in src
print('ok' if ok else 'changed')
PYEOF
}

PIP_VERSIONS=$(detect_pip_versions || true)
if [[ -z $PIP_VERSIONS ]]; then
    log "WARNING: could not detect the pip version from ansible-test's source; using $FALLBACK_PIP_VERSION"
    PIP_VERSIONS=$FALLBACK_PIP_VERSION
fi
if [[ $(check_bootstrap_source) != ok ]]; then
    log "WARNING: ansible-test's requirements.py no longer looks like 'get_pip_<X_Y>.py' + GET_PIP;" \
        "the cache prepared here may not be used. Check ansible_test/_util/target/setup/requirements.py"
fi

AT_VERSION=$("$PY" -c 'from ansible.release import __version__; print(__version__)' 2>/dev/null || echo '?')
log "ansible-core $AT_VERSION ($PY) bootstraps pip $(printf '%s' "$PIP_VERSIONS" | paste -sd, -)"
log "cache: $CACHE_DIR"
mkdir -p "$CACHE_DIR"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ansible-test-offline.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

MARKER='# generated-by: ipam.allocator tests/utils/ansible_test_offline.sh'

# ---------------------------------------------------------------------------
# 2./3. The wheel and the get_pip_<X_Y>.py stand-in, per pip version
# ---------------------------------------------------------------------------
write_get_pip() {
    local pip_version=$1 out=$2
    cat >"$out" <<PYEOF
#!/usr/bin/env python
$MARKER
"""Offline stand-in for ansible-test's get-pip-${pip_version}.py.

ansible-test runs it as
    GET_PIP=<this file> <venv python> quiet_pip.py --disable-pip-version-check \\
        pip==${pip_version} [--no-setuptools] [--no-wheel]
and quiet_pip.py imports it with runpy as __main__. Like get-pip.py it runs pip
from a bundled copy and installs pip (and setuptools/wheel unless told not to)
plus every other argument, but takes pip from the wheel that lies beside it
instead of an embedded blob, so nothing but this directory (and, for packages
not cached here, the configured package index) is needed.
"""
import os
import re
import shutil
import sys
import tempfile
import zipfile

PIP_VERSION = '${pip_version}'
HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, 'pip-%s-py3-none-any.whl' % PIP_VERSION)


def _norm(name):
    return re.sub(r'[-_.]+', '_', name).lower()


def _cached(req):
    """True if the requirement is a 'name==version' that a wheel in HERE provides."""
    m = re.match(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)\$', req)
    if not m:
        return False
    name, version = _norm(m.group(1)), m.group(2)
    for f in os.listdir(HERE):
        parts = f.split('-')
        if f.endswith('.whl') and len(parts) >= 3 and _norm(parts[0]) == name and parts[1] == version:
            return True
    return False


def _has_module(name):
    try:
        import importlib.util
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False


def install_arguments(argv):
    args = []
    no_setuptools = bool(os.environ.get('PIP_NO_SETUPTOOLS'))
    no_wheel = bool(os.environ.get('PIP_NO_WHEEL'))
    for arg in argv:
        if arg == '--no-setuptools':
            no_setuptools = True
        elif arg == '--no-wheel':
            no_wheel = True
        else:
            args.append(arg)
    reqs = [a for a in args if not a.startswith('-')]
    names = [_norm(re.split(r'[<>=!~;\[ @]', r, maxsplit=1)[0]) for r in reqs]
    if 'pip' not in names:
        reqs.append('pip==' + PIP_VERSION)
        args.append('pip==' + PIP_VERSION)
    # get-pip.py adds setuptools/wheel only when they are absent and not refused
    for name, refused in (('setuptools', no_setuptools), ('wheel', no_wheel)):
        if not refused and name not in names and not _has_module(name):
            reqs.append(name)
            args.append(name)
    opts = ['install', '--upgrade', '--force-reinstall', '--find-links', HERE]
    if all(_cached(r) for r in reqs):
        opts.append('--no-index')  # everything is here: no network at all
    return opts + args


def main():
    if not os.path.isfile(WHEEL):
        sys.stderr.write('%s is missing; run tests/utils/ansible_test_offline.sh '
                         '(or: pip download pip==%s --no-deps -d %s)\n' % (WHEEL, PIP_VERSION, HERE))
        return 1
    tmpdir = tempfile.mkdtemp(prefix='get-pip-offline-')
    try:
        with zipfile.ZipFile(WHEEL) as whl:
            whl.extractall(tmpdir)
        sys.path.insert(0, tmpdir)
        from pip._internal.cli.main import main as pip_main
        return pip_main(install_arguments(sys.argv[1:]))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
PYEOF
}

valid_wheel() {
    [[ -s $1 ]] && "$PY" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.exit(z.testzip() is not None)' "$1" 2>/dev/null
}

for V in $PIP_VERSIONS; do
    whl="$CACHE_DIR/pip-$V-py3-none-any.whl"
    script="$CACHE_DIR/get_pip_${V//./_}.py"

    if valid_wheel "$whl"; then
        log "ok      $whl"
    else
        log "fetch   pip==$V wheel (pip download)"
        rm -rf "$TMP/dl" && mkdir -p "$TMP/dl"
        PIP_PY=$PY
        if ! "$PIP_PY" -m pip --version >/dev/null 2>&1; then
            PIP_PY=$(command -v python3 || true)
            if [[ -z $PIP_PY ]] || ! "$PIP_PY" -m pip --version >/dev/null 2>&1; then
                die "neither $PY nor python3 on PATH has pip to download pip==$V with"
            fi
            log "note: $PY has no pip; downloading with $PIP_PY"
        fi
        if ! "$PIP_PY" -m pip download --disable-pip-version-check --quiet --no-deps \
                --only-binary=:all: --dest "$TMP/dl" "pip==$V" >&2; then
            die "pip download pip==$V failed (is PyPI reachable?)"
        fi
        [[ -f "$TMP/dl/pip-$V-py3-none-any.whl" ]] || die "pip download did not produce pip-$V-py3-none-any.whl"
        mv -f "$TMP/dl/pip-$V-py3-none-any.whl" "$whl"
        log "wrote   $whl"
    fi

    # a failed download by ansible-test leaves an empty get_pip_*.py.download behind
    [[ -f $script.download && ! -s $script.download ]] && rm -f "$script.download"

    write_get_pip "$V" "$TMP/get_pip.py"
    if [[ -f $script ]] && cmp -s "$TMP/get_pip.py" "$script"; then
        log "ok      $script"
    elif [[ -f $script ]] && ! grep -qF "$MARKER" "$script" && [[ $FORCE == 0 ]]; then
        log "keep    $script (not written by this script, probably the real get-pip; --force replaces it)"
    else
        mv -f "$TMP/get_pip.py" "$script"
        log "wrote   $script"
    fi

    if [[ $CHECK == 1 ]]; then
        log "check   bootstrapping pip $V into a throwaway venv"
        "$PY" -m venv --without-pip "$TMP/venv" >&2
        # the same call ansible-test makes (via quiet_pip.py, which only filters logging)
        (cd "$TMP" && GET_PIP="$script" "$TMP/venv/bin/python" "$script" \
            --disable-pip-version-check "pip==$V" --no-setuptools --no-wheel >&2) \
            || die "bootstrap check failed for pip $V"
        got=$("$TMP/venv/bin/python" -m pip --version | awk '{print $2}')
        [[ $got == "$V" ]] || die "bootstrap check: expected pip $V, got '$got'"
        rm -rf "$TMP/venv"
        log "check   ok (pip $got)"
    fi
done

# ---------------------------------------------------------------------------
# 4. Optional: a directory of python3.X -> pyenv interpreter symlinks
# ---------------------------------------------------------------------------
if [[ -n $PYTHONS_DIR ]]; then
    if command -v pyenv >/dev/null 2>&1; then
        PYENV_ROOT_DIR=$(pyenv root)
    else
        PYENV_ROOT_DIR=${PYENV_ROOT:-$HOME/.pyenv}
    fi
    mkdir -p "$PYTHONS_DIR"
    PYTHONS_DIR=$(cd "$PYTHONS_DIR" && pwd -P)
    found=()
    for X in $PY_VERSIONS; do
        best=
        # prefer plain releases (3.X.N), newest first; then anything else 3.X* (e.g. 3.13-dev)
        while IFS= read -r cand; do
            [[ -n $cand ]] || continue
            if "$cand" -c 'import sys' >/dev/null 2>&1; then best=$cand; break; fi
        done < <(
            shopt -s nullglob
            plain=() other=()
            for d in "$PYENV_ROOT_DIR"/versions/"$X".* "$PYENV_ROOT_DIR"/versions/"$X"; do
                [[ -x $d/bin/python$X ]] || continue
                if [[ ${d##*/} =~ ^${X//./\\.}(\.[0-9]+)?$ ]]; then plain+=("$d/bin/python$X"); else other+=("$d/bin/python$X"); fi
            done
            ((${#plain[@]})) && printf '%s\n' "${plain[@]}" | sort -rV
            ((${#other[@]})) && printf '%s\n' "${other[@]}" | sort -rV
            true
        )
        if [[ -n $best ]]; then
            ln -sfn "$best" "$PYTHONS_DIR/python$X"
            found+=("$X")
            log "python$X -> $best"
        else
            log "python$X: no pyenv interpreter under $PYENV_ROOT_DIR/versions (not linked)"
        fi
    done
    ((${#found[@]})) || log "WARNING: no pyenv interpreters found under $PYENV_ROOT_DIR/versions"
    log "put this first on PATH (ahead of pyenv shims):"
    # shellcheck disable=SC2016  # $PATH is meant to stay literal for the caller's eval
    printf 'export PATH="%s:$PATH"\n' "$PYTHONS_DIR"
fi

log "done; run ansible-test from the collection root, e.g. ansible-test sanity --venv --python 3.11"
