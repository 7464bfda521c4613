#!/usr/bin/env bash
# Local single-node OpenSearch (no Docker) for tests and local dev.
#   opensearch.sh start|stop|status
# Fetches the official integ-test distribution from Maven Central, adds the parent-join, reindex,
# lang-painless and analysis-common modules (absent from that distribution), and runs it on
# ${OPENSEARCH_URL:-http://127.0.0.1:9200}. See README.md in this folder.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

VERSION=${OPENSEARCH_VERSION:-2.19.6}
JAVA_OPTS=${OPENSEARCH_JAVA_OPTS:--Xms512m -Xmx512m}
START_TIMEOUT=${OPENSEARCH_START_TIMEOUT:-180}
RUN_USER=opensearch # only used when running as root: OpenSearch refuses to run as root

URL=$(opensearch_url)
HOST=$(opensearch_host)
PORT=$(opensearch_port)

LS_HOME=$(localstack_home)
OS_DIR=$LS_HOME/opensearch
INSTALL=$OS_DIR/opensearch-$VERSION
MARKER=$INSTALL/.dane-localstack-complete
NODE_DIR=$OS_DIR/node-$VERSION-$PORT
PIDFILE=$NODE_DIR/opensearch.pid
CONSOLE_LOG=$NODE_DIR/console.log

# name|maven groupId:artifactId|extended.plugins|description
MODULES=(
  "parent-join|org.opensearch.plugin:parent-join-client||This module adds the support parent-child queries and aggregations"
  "lang-painless|org.opensearch.plugin:lang-painless||An easy, safe and fast scripting language for OpenSearch"
  "reindex|org.opensearch.plugin:reindex-client||The Reindex module adds APIs to reindex from one index to another or update documents in place."
  "analysis-common|org.opensearch.plugin:analysis-common|lang-painless|Adds \"built in\" analyzers to OpenSearch."
)
# Bump when the install layout changes: an install with another id is rebuilt.
LAYOUT_ID="layout=1 version=$VERSION modules=parent-join,lang-painless,reindex,analysis-common"
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

health_ok() { curl -fsS -m 5 -o /dev/null "$URL/_cluster/health" 2>/dev/null; }

installed() { [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$LAYOUT_ID" ]; }

# Java home with a major version >= $1 (OPENSEARCH_JAVA_HOME, JAVA_HOME, system java, /usr/lib/jvm/*).
java_home_for() {
  local need=$1 cand major sys=""
  if command -v java >/dev/null 2>&1; then
    sys=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  fi
  for cand in "${OPENSEARCH_JAVA_HOME:-}" "${JAVA_HOME:-}" "$sys" /usr/lib/jvm/*; do
    if [ -z "$cand" ] || [ ! -x "$cand/bin/java" ]; then continue; fi
    major=$(sed -nE 's/^JAVA_VERSION="([0-9]+).*/\1/p' "$cand/release" 2>/dev/null || true)
    if [ -z "$major" ]; then
      major=$("$cand/bin/java" -XshowSettings:properties -version 2>&1 |
        sed -nE 's/^ *java\.specification\.version = ([0-9]+).*/\1/p')
    fi
    if [ -n "$major" ] && (( major >= need )); then
      printf '%s\n' "$cand"
      return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------- install
write_poms() {
  local build=$1 spec name ga
  local modules_xml="    <module>dist</module>"
  mkdir -p "$build/dist"
  cat >"$build/dist/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dane.localstack</groupId><artifactId>dist</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.opensearch.distribution.integ-test-zip</groupId><artifactId>opensearch</artifactId>
      <version>$VERSION</version><type>zip</type>
    </dependency>
  </dependencies>
</project>
EOF
  for spec in "${MODULES[@]}"; do
    IFS='|' read -r name ga _ _ <<<"$spec"
    modules_xml+=$'\n'"    <module>$name</module>"
    mkdir -p "$build/$name"
    # The server jar and its dependency tree are already in the distribution's lib/.
    cat >"$build/$name/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dane.localstack</groupId><artifactId>module-$name</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>${ga%%:*}</groupId><artifactId>${ga#*:}</artifactId><version>$VERSION</version>
      <exclusions><exclusion><groupId>org.opensearch</groupId><artifactId>opensearch</artifactId></exclusion></exclusions>
    </dependency>
  </dependencies>
</project>
EOF
  done
  cat >"$build/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dane.localstack</groupId><artifactId>opensearch-localstack</artifactId><version>1</version><packaging>pom</packaging>
  <modules>
$modules_xml
  </modules>
</project>
EOF
}

# Jar name without version: reactor-core-3.7.19.jar -> reactor-core
jar_base() { basename "$1" .jar | sed -E 's/-[0-9].*$//'; }

write_policy() {
  local name=$1 dir=$2
  case "$name" in
    lang-painless)
      cat >"$dir/plugin-security.policy" <<'EOF'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load whitelisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
      ;;
    reindex)
      cat >"$dir/plugin-security.policy" <<'EOF'
grant {
  // reindex from remote opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};

grant codeBase "${codebase.opensearch-rest-client}" {
  // rest client uses system properties which gets the default proxy
  permission java.net.NetPermission "getProxySelector";
};

grant codeBase "${codebase.httpasyncclient}" {
  // rest client uses system properties which gets the default proxy
  permission java.net.NetPermission "getProxySelector";
};
EOF
      ;;
  esac
}

assemble_modules() {
  local build=$1 dist=$2 spec name ga ext desc mdir jar base main classname
  declare -A in_lib=()
  for jar in "$dist"/lib/*.jar; do in_lib[$(jar_base "$jar")]=1; done
  for spec in "${MODULES[@]}"; do
    IFS='|' read -r name ga ext desc <<<"$spec"
    mdir=$dist/modules/$name
    rm -rf "$mdir"
    mkdir -p "$mdir"
    main=$build/$name/target/dependency/${ga#*:}-$VERSION.jar
    [ -f "$main" ] || die "module jar missing after fetch: $main"
    for jar in "$build/$name"/target/dependency/*.jar; do
      base=$(jar_base "$jar")
      [ -z "${in_lib[$base]:-}" ] || continue
      # Everything, the painless SPI jar included, goes in the module folder itself: 2.19 does not
      # put an spi/ subfolder on lang-painless's own class path (NoClassDefFoundError: .../spi/Whitelist);
      # plugins that extend lang-painless (analysis-common) see its whole class loader.
      cp "$jar" "$mdir/"
    done
    classname=$(unzip -Z1 "$main" | grep -E '^[^$]*Plugin\.class$' || true)
    [ "$(printf '%s\n' "$classname" | grep -c .)" -eq 1 ] ||
      die "expected exactly one *Plugin.class in $(basename "$main"), found: ${classname:-none}"
    classname=${classname%.class}
    classname=${classname//\//.}
    cat >"$mdir/plugin-descriptor.properties" <<EOF
# Written by localstack/opensearch.sh (the Maven jar does not carry the descriptor).
description=$desc
version=$VERSION
name=$name
classname=$classname
java.version=11
opensearch.version=$VERSION
extended.plugins=$ext
has.native.controller=false
EOF
    write_policy "$name" "$mdir"
    log "  module $name: $classname ($(find "$mdir" -name '*.jar' | wc -l) jars)"
  done
}

install() {
  need_cmd mvn maven
  need_cmd unzip
  local stage=$OS_DIR/.staging-$VERSION t0=$SECONDS
  log "fetching OpenSearch $VERSION integ-test distribution + modules from Maven Central"
  rm -rf "$stage"
  mkdir -p "$stage/build"
  write_poms "$stage/build"
  # shellcheck disable=SC2086  # DANE_LOCALSTACK_MAVEN_ARGS is a list of extra flags
  if ! mvn -B -q -ntp ${DANE_LOCALSTACK_MAVEN_ARGS:-} -f "$stage/build/pom.xml" \
    "$DEP_PLUGIN:copy-dependencies" >"$stage/maven.log" 2>&1; then
    tail -n 40 "$stage/maven.log" >&2
    die "maven could not fetch OpenSearch $VERSION (log: $stage/maven.log)"
  fi
  local zip=$stage/build/dist/target/dependency/opensearch-$VERSION.zip
  [ -f "$zip" ] || die "distribution zip missing after fetch: $zip"
  mkdir -p "$stage/unpacked"
  unzip -q "$zip" -d "$stage/unpacked"
  local dist=$stage/unpacked/opensearch-$VERSION
  [ -x "$dist/bin/opensearch" ] || die "unexpected zip layout: no $dist/bin/opensearch"
  assemble_modules "$stage/build" "$dist"
  rm -rf "$INSTALL"
  mv "$dist" "$INSTALL"
  rm -rf "$stage"
  printf '%s\n' "$LAYOUT_ID" >"$MARKER" # written last: no marker means redo
  log "installed $INSTALL in $(( SECONDS - t0 ))s"
}

ensure_run_user() {
  is_root || return 0
  if ! id -u "$RUN_USER" >/dev/null 2>&1; then
    log "creating system user '$RUN_USER' (OpenSearch refuses to run as root)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$RUN_USER"
  fi
  chmod 755 "$LS_HOME" "$OS_DIR"
  chown -R "$RUN_USER:" "$INSTALL" "$NODE_DIR"
  runuser -u "$RUN_USER" -- test -x "$INSTALL/bin/opensearch" ||
    die "user '$RUN_USER' cannot reach $INSTALL: put DANE_LOCALSTACK_HOME where it can (e.g. /var/cache/dane-localstack)"
}

# ---------------------------------------------------------------- processes
# PIDs of OpenSearch nodes serving $PORT that these scripts started (pidfile, or command line).
node_pids() {
  local pid
  {
    if [ -f "$PIDFILE" ]; then
      pid=$(cat "$PIDFILE" 2>/dev/null || true)
      if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'org.opensearch.bootstrap.OpenSearch'; then
        echo "$pid"
      fi
    fi
    pgrep -f -- "org\.opensearch\.bootstrap\.OpenSearch.*-Ehttp\.port=$PORT( |$)" || true
  } | sort -u
}

kill_node() {
  local pids start=$SECONDS
  pids=$(node_pids)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  while pids=$(node_pids) && [ -n "$pids" ]; do
    if (( SECONDS - start >= 60 )); then
      log "node did not exit within 60s, sending SIGKILL to $pids"
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  rm -f "$PIDFILE"
}

start() {
  if health_ok; then
    log "opensearch already answering at $URL"
    return 0
  fi
  case "$HOST" in
    127.*) ;;
    *) die "OPENSEARCH_URL=$URL does not answer and is not a loopback address: cannot start a local node for it" ;;
  esac
  need_cmd curl
  mkdir -p "$OS_DIR"
  exec 9>"$OS_DIR/.lock"
  flock -w 900 9 || die "timed out waiting for another localstack opensearch.sh ($OS_DIR/.lock)"
  if health_ok; then # started by a concurrent caller while we waited for the lock
    log "opensearch already answering at $URL"
    return 0
  fi
  if port_open "$HOST" "$PORT"; then
    die "port $PORT is open but $URL/_cluster/health does not answer (another service on that port?)"
  fi
  kill_node # a stale, non-answering node of ours
  installed || install

  local java_home need=17
  [ "${VERSION%%.*}" -ge 3 ] && need=21
  java_home=$(java_home_for "$need") || die "no Java >= $need found (set OPENSEARCH_JAVA_HOME)"

  mkdir -p "$NODE_DIR/data" "$NODE_DIR/logs" "$NODE_DIR/tmp"
  rm -f "$PIDFILE"
  printf '\n==== %s start\n' "$(date -Is)" >>"$CONSOLE_LOG"
  ensure_run_user
  log "starting opensearch $VERSION on $URL (java: $java_home, opts: $JAVA_OPTS, dir: $NODE_DIR)"
  local t0=$SECONDS
  local -a cmd=(env -u JAVA_HOME
    OPENSEARCH_JAVA_HOME="$java_home" OPENSEARCH_JAVA_OPTS="$JAVA_OPTS"
    OPENSEARCH_TMPDIR="$NODE_DIR/tmp" OPENSEARCH_PATH_CONF="$INSTALL/config"
    "$INSTALL/bin/opensearch" -d -p "$PIDFILE"
    -Ecluster.name=dane-localstack
    -Enode.name="dane-localstack-$PORT"
    -Ediscovery.type=single-node
    -Enetwork.host="$HOST"
    -Ehttp.port="$PORT"
    -Epath.data="$NODE_DIR/data"
    -Epath.logs="$NODE_DIR/logs"
    -Eaction.auto_create_index=true
    -Ecluster.routing.allocation.disk.threshold_enabled=false)
  if is_root; then cmd=(runuser -u "$RUN_USER" -- "${cmd[@]}"); fi
  # setsid: the node must not die with the caller's process group (test runners kill theirs).
  if ! (cd "$INSTALL" && setsid -w "${cmd[@]}" >>"$CONSOLE_LOG" 2>&1 </dev/null 9>&-); then
    fail_start "bin/opensearch exited with an error"
  fi
  until curl -fsS -m 5 -o /dev/null "$URL/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null; do
    if (( SECONDS - t0 >= START_TIMEOUT )); then
      fail_start "no healthy answer from $URL within ${START_TIMEOUT}s"
    fi
    if [ -z "$(node_pids)" ] && (( SECONDS - t0 >= 5 )); then
      fail_start "the opensearch process exited"
    fi
    sleep 1
  done
  local mods
  # Modules are not listed by _cat/plugins (only plugins/ is): ask _nodes/plugins.
  mods=$(curl -fsS -m 5 "$URL/_nodes/_local/plugins?filter_path=nodes.*.modules.name" 2>/dev/null |
    grep -oE '"name":"[^"]+"' | cut -d'"' -f4 | sort | tr '\n' ' ' | sed 's/ $//' || true)
  log "opensearch up in $(( SECONDS - t0 ))s at $URL (modules: ${mods:-?})"
  case " $mods " in
    *" parent-join "*) ;;
    *) log "warning: parent-join module is not loaded" ;;
  esac
}

fail_start() {
  log "opensearch failed to start: $1"
  local f
  for f in "$CONSOLE_LOG" "$NODE_DIR/logs/dane-localstack.log"; do
    [ -s "$f" ] || continue
    log "---- tail of $f"
    tail -n 40 "$f" >&2 || true
  done
  kill_node
  die "opensearch did not start (logs: $NODE_DIR/logs, $CONSOLE_LOG)"
}

stop() {
  local pids
  pids=$(node_pids)
  if [ -z "$pids" ]; then
    if health_ok; then
      die "$URL answers but is not a node started by these scripts: not stopping it"
    fi
    log "opensearch not running"
    return 0
  fi
  log "stopping opensearch (pid $(echo "$pids" | tr '\n' ' '| sed 's/ $//'))"
  kill_node
  wait_port_closed "$HOST" "$PORT" 30 || die "port $PORT still open after stopping opensearch"
  log "opensearch stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if health_ok; then log "opensearch is up at $URL"; exit 0; else log "opensearch is down at $URL"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
