# Shared set-up for every tool: project paths, a JDK 25+, and on-demand installs.
# Sourced, never run. Everything downloaded lands in .tools/ (git-ignored).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
PYTHON=/usr/bin/python3          # Debian's, the one that has Jupyter's modules
JBANG_VERSION_PIN=0.132.1        # also in tools/jbang/pom.xml
KERNEL_ARTIFACT=io.github.padreati:rapaio-jupyter-kernel:3.0.1
export JBANG_NO_VERSION_CHECK=true

die() { echo "error: $*" >&2; exit 1; }

# Major version of the JDK at $1, from its `release` file (0 if unknown).
jdk_major() {
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  echo "${v:-0}"
}

# Prints a JDK 25+ home: JAVA_HOME first, then the usual install folders.
find_jdk() {
  local candidate best="" best_major=0 major
  if [ -n "${JAVA_HOME:-}" ] && [ "$(jdk_major "$JAVA_HOME")" -ge 25 ]; then
    echo "$JAVA_HOME"; return 0
  fi
  for candidate in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
                   /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$candidate/bin/javac" ] || continue
    major=$(jdk_major "$candidate")
    if [ "$major" -ge 25 ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate; best_major=$major
    fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

use_jdk() {
  JAVA_HOME=$(find_jdk) || die "no JDK 25 or newer found: install one (e.g. Temurin 25) and set JAVA_HOME"
  export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
  # Maven 3.8 uses sun.misc.Unsafe through Guava: JDK 24+ warns on every run otherwise.
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
}

# need_deb <command-or-file> <debian package...>: installs with apt-get when root.
need_deb() {
  local probe=$1; shift
  take_turns apt  # first: a package being installed beside us may already show its files
  if [ -e "$probe" ] || command -v "$probe" >/dev/null 2>&1; then end_turn; return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    die "missing $probe: install it with 'sudo apt-get install $*'"
  fi
  echo "installing Debian packages: $*" >&2
  if [ ! -e "$TOOLS/.apt-updated" ]; then
    apt-get update -qq >&2 || die "apt-get update failed"
    touch "$TOOLS/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
  end_turn
}

# take_turns <name> ... end_turn: holds .tools/<name>.lock in between (or until the
# process ends; turns do not nest). make test runs its last steps side by side
# (tools/test-all), and two of them may both install Debian packages, or both (re)write
# the kernel: one at a time.
take_turns() {
  mkdir -p "$TOOLS"
  exec {turn_fd}>> "$TOOLS/$1.lock"
  flock "$turn_fd"
}
end_turn() { exec {turn_fd}>&-; }

# What tools/java_kernel.py uses to start and drive the kernel (no Jupyter front end).
need_python_jupyter() {
  need_deb /usr/lib/python3/dist-packages/jupyter_client \
    python3-jupyter-client python3-nbformat python3-zmq
}

# Maven, quiet: errors only. Maven 3.8 prints stray ANSI resets (ESC[0m) even in batch
# mode without colour; they are stripped so logs stay plain text.
mvn_quiet() {
  mvn -q -B -Dstyle.color=never "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
  return "${PIPESTATUS[0]}"
}

# Maven, showing one line per artifact it downloads (nothing when all are cached), so a
# first run on an empty Maven repository is never a long silence.
mvn_progress() {
  mvn -B -Dstyle.color=never "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | while IFS= read -r line; do
    case $line in
      *"Downloaded from "*) echo "  ${line#*Downloaded from }" >&2 ;;
      *"[ERROR]"*) echo "$line" >&2 ;;
    esac
  done
  return "${PIPESTATUS[0]}"
}

# The jbang command: one on PATH (not ours), else the bootstrapped launcher.
jbang_cmd() {
  local found
  found=$(type -P jbang || true)
  if [ -n "$found" ] && [ "$(readlink -f "$found")" != "$ROOT/tools/bin/jbang" ]; then
    echo "$found"
  else
    echo "$ROOT/tools/bin/jbang"
  fi
}

# JBang's jars from Maven Central, with the gson pin (see tools/jbang/pom.xml).
ensure_jbang_jars() {
  [ -e "$TOOLS/jbang/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to install JBang: apt-get install maven"
  printf '%s\n' "installing JBang $JBANG_VERSION_PIN from Maven Central into .tools/jbang" \
    "(first use only; up to a minute or two when Maven's cache is empty)" >&2
  rm -rf "$TOOLS/jbang"
  mvn_progress -f "$ROOT/tools/jbang/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$TOOLS/jbang" || die "could not fetch JBang from Maven Central"
  echo "JBang is installed; next, JBang compiles the script (a few seconds, once)" >&2
  touch "$TOOLS/jbang/.complete"
}

# The Java Jupyter kernel, registered as `java` in a project-local JUPYTER_PATH: the jar
# as Maven Central ships it, behind one corrected class compiled from tools/kernel/
# (its header says what it fixes and when to delete it).
ensure_kernel() {
  local dir="$TOOLS/jupyter/kernels/java" jar=rapaio-jupyter-kernel-3.0.1.jar
  local fix_src="$ROOT/tools/kernel/LoopThread.java" fix="$TOOLS/jupyter/kernel-fix"
  export JUPYTER_PATH="$TOOLS/jupyter"
  take_turns kernel
  if [ ! -e "$dir/$jar" ]; then
    echo "installing the Java Jupyter kernel ($KERNEL_ARTIFACT) into .tools/jupyter" >&2
    mkdir -p "$dir"
    mvn_quiet dependency:copy -Dartifact="$KERNEL_ARTIFACT" -DoutputDirectory="$dir" \
      || die "could not fetch the Java kernel from Maven Central"
  fi
  if ! cmp -s "$fix_src" "$fix/LoopThread.java"; then  # compiled again when it changes
    rm -rf "$fix" && mkdir -p "$fix"
    "$JAVA_HOME/bin/javac" -Xlint:all -Werror -d "$fix" -cp "$dir/$jar" "$fix_src" >&2 \
      || die "could not compile $fix_src"
    cp "$fix_src" "$fix/LoopThread.java"
  fi
  # Rewritten each time: they name this machine's JDK. The fix comes first on the class
  # path, so it replaces the jar's class; the jar's manifest only names MainApp. A second
  # kernel, "java-preview", runs lessons that use preview features (a script with
  # //PREVIEW): its JVM and its JShell compiler both get --enable-preview.
  write_kernelspec java "Java" "" ""
  write_kernelspec java-preview "Java (preview features)" '"--enable-preview", ' \
    ', "RJK_COMPILER_OPTIONS": "--enable-preview --release 25"'
  end_turn
}

# write_kernelspec <name> <display name> <extra JVM options, JSON> <extra env, JSON>
write_kernelspec() {
  local dir="$TOOLS/jupyter/kernels/$1" base="$TOOLS/jupyter/kernels/java"
  mkdir -p "$dir"
  # Written beside, then renamed: a kernel starting meanwhile reads the old file or the new.
  cat > "$dir/kernel.json.$$" <<JSON
{
  "argv": ["$JAVA_HOME/bin/java", $3"-cp",
           "$TOOLS/jupyter/kernel-fix:$base/rapaio-jupyter-kernel-3.0.1.jar",
           "org.rapaio.jupyter.kernel.MainApp", "{connection_file}"],
  "display_name": "$2",
  "language": "java",
  "interrupt_mode": "message",
  "env": {"RJK_TIMEOUT_MILLIS": "-1"$4}
}
JSON
  mv -f "$dir/kernel.json.$$" "$dir/kernel.json"
}

# Mermaid and puppeteer-core from npm, driving Debian's Chromium (no browser download).
ensure_mermaid() {
  need_deb /usr/bin/chromium chromium
  need_deb /usr/share/fonts/truetype/liberation fonts-liberation  # see render.mjs
  command -v npm >/dev/null || die "npm is needed to install Mermaid: apt-get install npm"
  local dir="$TOOLS/mermaid"
  if [ ! -e "$dir/node_modules/puppeteer-core" ] \
     || ! cmp -s "$ROOT/tools/mermaid/package-lock.json" "$dir/package-lock.json"; then
    echo "installing Mermaid and puppeteer-core from npm into .tools/mermaid" >&2
    mkdir -p "$dir" && cp "$ROOT"/tools/mermaid/package*.json "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) \
      || die "npm install of Mermaid failed"
  fi
  export MERMAID_DIR="$dir"
}
