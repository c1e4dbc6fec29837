# Shared helpers for scripts/test and bench/run: section headers, timing, and installing what is
# missing on a Debian machine (apt for system packages, npm and pip for the interop clients).
# Source it; it defines functions and a few variables and changes nothing by itself.
# shellcheck shell=bash

GH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GH_SCRIPT_START=$(date +%s)
GH_APT_UPDATED=0

if [[ -t 1 ]]; then
  GH_BOLD=$'\e[1m' GH_RED=$'\e[31m' GH_DIM=$'\e[2m' GH_RESET=$'\e[0m'
else
  GH_BOLD='' GH_RED='' GH_DIM='' GH_RESET=''
fi

# section TITLE: a header that stands out in a long CI log, with the time since the script started.
section() {
  local elapsed=$(($(date +%s) - GH_SCRIPT_START))
  printf '\n%s==== %s %s(+%dm%02ds)%s\n' "$GH_BOLD" "$1" "$GH_DIM" $((elapsed / 60)) $((elapsed % 60)) "$GH_RESET"
}

note() { printf '  %s\n' "$*"; }

die() {
  printf '%serror:%s %s\n' "$GH_RED" "$GH_RESET" "$*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# Seconds since the script started, as "4m07s".
elapsed_total() {
  local s=$(($(date +%s) - GH_SCRIPT_START))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif have sudo; then sudo "$@"; else die "need root (or sudo) to run: $*"; fi
}

# apt_install PKG...: installs Debian packages, running `apt-get update` at most once per script run.
apt_install() {
  have apt-get || die "apt-get not found: install $* by hand"
  export DEBIAN_FRONTEND=noninteractive
  if [[ $GH_APT_UPDATED -eq 0 ]]; then
    note "apt-get update"
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq
    GH_APT_UPDATED=1
  fi
  note "apt-get install $*"
  as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
}

# sha256 of a file, or "none" when it does not exist.
file_digest() {
  if [[ -f $1 ]]; then sha256sum "$1" | cut -d' ' -f1; else echo none; fi
}

# ensure_npm_deps DIR: installs DIR/package.json's dependencies (npm ci when a lock file exists) unless
# node_modules already matches the lock file. A stamp inside node_modules records what was installed.
ensure_npm_deps() {
  local dir=$1
  [[ -f $dir/package.json ]] || return 0
  if ! have node || ! have npm; then
    apt_install nodejs npm
  fi
  local want stamp="$dir/node_modules/.gatehouse-installed"
  want="$(file_digest "$dir/package.json") $(file_digest "$dir/package-lock.json")"
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    note "npm packages in ${dir#"$GH_ROOT"/} are up to date"
    return 0
  fi
  if [[ -f $dir/package-lock.json ]]; then
    note "npm ci in ${dir#"$GH_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    note "npm install in ${dir#"$GH_ROOT"/}"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
  want="$(file_digest "$dir/package.json") $(file_digest "$dir/package-lock.json")"
  echo "$want" >"$stamp"
}

# ensure_python_deps REQUIREMENTS VENV: a virtual environment at VENV with the pinned packages of
# REQUIREMENTS (lines `name==version`). Skips pip when every pin is already satisfied.
ensure_python_deps() {
  local req=$1 venv=$2
  [[ -f $req ]] || return 0
  if ! have python3; then
    apt_install python3 python3-venv
  fi
  if [[ ! -x $venv/bin/python3 ]]; then
    note "creating a Python virtual environment in ${venv#"$GH_ROOT"/}"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      rm -rf "$venv"
      apt_install python3-venv
      python3 -m venv "$venv"
    fi
  fi
  if "$venv/bin/python3" - "$req" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, pinned = line.partition("==")
    try:
        ok = ok and (not pinned or version(name.strip()) == pinned.strip())
    except PackageNotFoundError:
        ok = False
sys.exit(0 if ok else 1)
PY
  then
    note "Python packages in ${venv#"$GH_ROOT"/} are up to date"
  else
    note "pip install -r ${req#"$GH_ROOT"/}"
    "$venv/bin/python3" -m pip install --disable-pip-version-check -q -r "$req"
  fi
}

# The PostgreSQL server the tests use. Trust authentication over loopback is assumed; on a machine
# where PostgreSQL was just installed by ensure_postgres, loopback trust is configured for it.
GH_PG_HOST=${GH_PG_HOST:-127.0.0.1}
GH_PG_PORT=${GH_PG_PORT:-5432}
GH_PG_USER=${GH_PG_USER:-postgres}
GH_PG_SERVER="postgres://${GH_PG_USER}@${GH_PG_HOST}:${GH_PG_PORT}"

pg_admin() {
  PGCONNECT_TIMEOUT=10 psql "$GH_PG_SERVER/postgres" -w -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

pg_version() {
  local v
  v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  [[ -n $v ]] || v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)
  echo "$v"
}

# ensure_postgres: PostgreSQL installed, its cluster running and accepting connections on
# $GH_PG_HOST:$GH_PG_PORT as $GH_PG_USER without a password.
ensure_postgres() {
  local fresh=0 ver
  if ! have psql || ! have pg_isready || [[ -z $(pg_version) ]]; then
    apt_install postgresql postgresql-client
    fresh=1
  fi
  ver=$(pg_version)
  if pg_isready -q -h "$GH_PG_HOST" -p "$GH_PG_PORT"; then
    note "PostgreSQL is accepting connections on $GH_PG_HOST:$GH_PG_PORT"
  else
    [[ $GH_PG_HOST == 127.0.0.1 || $GH_PG_HOST == localhost ]] ||
      die "PostgreSQL at $GH_PG_HOST:$GH_PG_PORT is not answering"
    if [[ ! -d /etc/postgresql/$ver/main ]]; then
      note "creating PostgreSQL $ver cluster 'main'"
      as_root pg_createcluster "$ver" main --port "$GH_PG_PORT" >/dev/null
      fresh=1
    fi
    note "starting PostgreSQL $ver"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 60); do
      pg_isready -q -h "$GH_PG_HOST" -p "$GH_PG_PORT" && break
      sleep 0.5
    done
    pg_isready -q -h "$GH_PG_HOST" -p "$GH_PG_PORT" ||
      die "PostgreSQL did not become ready on $GH_PG_HOST:$GH_PG_PORT within 30 s"
    note "PostgreSQL is accepting connections on $GH_PG_HOST:$GH_PG_PORT"
  fi
  if ! pg_admin -c 'select 1' >/dev/null 2>&1; then
    local hba=/etc/postgresql/$ver/main/pg_hba.conf
    if [[ $fresh -eq 1 && -f $hba ]]; then
      note "allowing passwordless loopback connections (trust) in $hba for the test suite"
      as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
      sleep 1
    fi
    pg_admin -c 'select 1' >/dev/null ||
      die "cannot connect to $GH_PG_SERVER/postgres without a password; the tests need trust authentication on loopback"
  fi
}
