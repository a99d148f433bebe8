#!/usr/bin/env bash
# Build raftkv's local base images without any container registry:
#
#   raftkv/base-jre:local     FROM scratch: a jlink'ed JRE in /opt/jre + the glibc/zlib it needs,
#                             /etc/passwd,group (user raftkv, uid 1001), nsswitch.conf, 1777 /tmp
#   raftkv/base-native:local  the same runtime without the JRE (for the GraalVM native executable)
#
# Method (BASE_METHOD):
#   auto (default)  host, and debootstrap if no usable JDK can be found or installed
#   host            jlink from a host JDK: $JLINK_JDK, else Temurin 25 (links from its own runtime, it has
#                   no jmods), else any JDK with jmods (Debian's openjdk-17-jdk-headless, installed when root)
#   debootstrap     Debian bookworm minbase (+ openjdk-17-jre-headless for the JRE image); slower, larger
#
# Idempotent: an image that already exists is kept unless FORCE=1.
# Other knobs: JRE_MODULES (comma list, replaces the default), JRE_EXTRA_MODULES (added to it),
#              JLINK_COMPRESS (jlink --compress value; default zip-6, or 2 on JDK 17),
#              BASE_JRE_IMAGE, BASE_NATIVE_IMAGE, DEBIAN_MIRROR, KEEP_ROOTFS=1 (keep the work dir).
set -euo pipefail

BASE_JRE_IMAGE=${BASE_JRE_IMAGE:-raftkv/base-jre:local}
BASE_NATIVE_IMAGE=${BASE_NATIVE_IMAGE:-raftkv/base-native:local}
BASE_METHOD=${BASE_METHOD:-auto}
FORCE=${FORCE:-0}
APP_UID=1001
APP_USER=raftkv

# What Quarkus (rest, jackson, scheduler, health, micrometer), Vert.x/Netty, MapDB (Kotlin, Guava,
# Eclipse Collections, LZ4) need at run time, from `jdeps -s` over target/quarkus-app/lib plus what is
# reached reflectively (zipfs for the fast-jar, jdk.naming.dns for JNDI DNS lookups, jdk.crypto.ec for TLS).
# java.desktop (~16 MB) is left out: only GraalVM substitutions, micrometer's Log4j2Metrics and EL refer to
# it, and Jackson treats java.beans as optional. Add it with JRE_EXTRA_MODULES=java.desktop if ever needed.
DEFAULT_MODULES=java.base,java.logging,java.naming,java.management,java.net.http,java.sql,java.xml,\
java.security.jgss,jdk.unsupported,jdk.zipfs,jdk.crypto.ec,jdk.naming.dns,jdk.management
JRE_MODULES=${JRE_MODULES:-$DEFAULT_MODULES}
if [ -n "${JRE_EXTRA_MODULES:-}" ]; then JRE_MODULES="$JRE_MODULES,$JRE_EXTRA_MODULES"; fi

log() { echo "[base-images] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
    is_root || return 1
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

needs_build() {
    if [ "$FORCE" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; then
        log "$1 exists (FORCE=1 rebuilds it)"
        return 1
    fi
    return 0
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/docker-engine.sh first)"

build_jre=0; build_native=0
needs_build "$BASE_JRE_IMAGE" && build_jre=1
needs_build "$BASE_NATIVE_IMAGE" && build_native=1
[ $build_jre = 1 ] || [ $build_native = 1 ] || exit 0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/raftkv-base.XXXXXX")
cleanup() { if [ "${KEEP_ROOTFS:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------
# Shared pieces of a rootfs
# ---------------------------------------------------------------------------------------------------------

# Minimal identity and name-service files, /tmp, and the app user's home.
write_etc() {
    local root=$1
    mkdir -p "$root/etc" "$root/tmp" "$root/home/$APP_USER"
    chmod 1777 "$root/tmp"
    cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
$APP_USER:x:$APP_UID:0:raftkv:/home/$APP_USER:/sbin/nologin
EOF
    cat >"$root/etc/group" <<EOF
root:x:0:
$APP_USER:x:$APP_UID:
nogroup:x:65534:
EOF
    cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd:   files
group:    files
shadow:   files
hosts:    files dns
networks: files
services: files
protocols: files
EOF
    # Docker bind-mounts /etc/hosts, /etc/hostname and /etc/resolv.conf over these at run time.
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    : >"$root/etc/resolv.conf"
    if is_root; then
        chown "$APP_UID:0" "$root/home/$APP_USER"
        chmod 0770 "$root/home/$APP_USER"
    else
        chmod 1777 "$root/home/$APP_USER"   # ownership can't be given away; keep it usable
    fi
}

# Copy a host library into the rootfs at the path the dynamic loader looks for it (dereferenced).
copy_lib() {
    local root=$1 path=$2
    [ -e "$path" ] || return 0
    mkdir -p "$root$(dirname "$path")"
    cp -L "$path" "$root$path"
}

# Host path of a library by soname (empty when the host has none).
lib_path() {
    ldconfig -p 2>/dev/null | awk -v so="$1" -v arch="$(arch_tag)" \
        '$1 == so && index($0, arch) { print $NF; exit }'
}
arch_tag() {
    case "$(uname -m)" in x86_64) echo 'x86-64' ;; aarch64) echo 'AArch64' ;; *) echo "" ;; esac
}

# glibc, zlib and libgcc_s (used by glibc for thread cancellation/unwinding), plus the NSS modules when
# they are separate files; and every host library that the ELF files under $2 (optional) link to.
copy_runtime_libs() {
    local root=$1 scan=${2:-} so p
    for so in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2 \
              libnss_files.so.2 libnss_dns.so.2 libz.so.1 libgcc_s.so.1; do
        p=$(lib_path "$so")
        if [ -n "$p" ]; then copy_lib "$root" "$p"
        elif [ "$so" = libc.so.6 ] || [ "$so" = libz.so.1 ]; then die "host has no $so"
        fi
    done
    # The program interpreter, as the ELF files name it (/lib64/ld-linux-x86-64.so.2 on x86_64).
    # The C.UTF-8 locale (libc-bin, 400 KB), so LANG=C.UTF-8 takes effect (sun.jnu.encoding=UTF-8).
    if [ -d /usr/lib/locale/C.utf8 ]; then
        mkdir -p "$root/usr/lib/locale"
        cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
    fi
    p=$(ldd /bin/true | awk '$1 ~ /^\// && /ld-linux/ { print $1; exit }')
    [ -n "$p" ] || die "cannot find the dynamic loader"
    copy_lib "$root" "$p"
    if [ -n "$scan" ]; then
        find "$scan" -type f \( -name '*.so' -o -perm -u+x \) -print0 |
            xargs -0 -r ldd 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
            while read -r p; do
                case "$p" in "$scan"/*) continue ;; esac
                copy_lib "$root" "$p"
            done
    fi
}

import_rootfs() {
    local root=$1 image=$2; shift 2
    local owner=()
    is_root || owner=(--owner=0 --group=0)
    local previous; previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    tar -C "$root" --numeric-owner "${owner[@]}" -c . | docker import "$@" - "$image" >/dev/null
    # A rebuild (FORCE=1) leaves the old image untagged: drop it unless something still uses it.
    if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
        docker rmi "$previous" >/dev/null 2>&1 || true
    fi
    log "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1/1e6 }'))"
}

# ---------------------------------------------------------------------------------------------------------
# host method: jlink
# ---------------------------------------------------------------------------------------------------------

java_major() {   # the feature version of a JDK home, from its release file
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null
}

jdk_candidates() {
    [ -n "${JLINK_JDK:-}" ] && echo "$JLINK_JDK"
    ls -d /usr/lib/jvm/temurin-2[5-9]*-jdk* /usr/lib/jvm/temurin-[3-9]*-jdk* 2>/dev/null | sort -rV
    if command -v javac >/dev/null 2>&1; then dirname "$(dirname "$(readlink -f "$(command -v javac)")")"; fi
    ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -rV
}

# Link $JRE_MODULES (those the JDK has) from JDK $1 into $2. Fails when the JDK can't link (no jmods and a
# runtime image that isn't linkable).
jlink_jre() {
    local jdk=$1 out=$2 have mods=() m compress cds=()
    [ -x "$jdk/bin/jlink" ] && [ -x "$jdk/bin/java" ] || return 1
    local major; major=$(java_major "$jdk")
    [ -n "$major" ] && [ "$major" -ge 17 ] || return 1
    have=$("$jdk/bin/java" --list-modules 2>/dev/null | sed 's/@.*//')
    IFS=, read -r -a want <<<"$JRE_MODULES"
    for m in "${want[@]}"; do
        if grep -qx "$m" <<<"$have"; then mods+=("$m"); else log "  ($jdk has no module $m; skipped)"; fi
    done
    local plugins; plugins=$("$jdk/bin/jlink" --list-plugins 2>/dev/null || true)
    # zip-6 (JDK 21+) or 2 (JDK 17): both mean zip-compressed modules; JLINK_COMPRESS overrides (0 = none).
    if [ -n "${JLINK_COMPRESS:-}" ]; then compress=--compress=$JLINK_COMPRESS
    elif grep -q 'zip-' <<<"$plugins"; then compress=--compress=zip-6
    else compress=--compress=2
    fi
    grep -q -- '--generate-cds-archive' <<<"$plugins" && cds=(--generate-cds-archive)
    rm -rf "$out"
    local IFS=,
    "$jdk/bin/jlink" --add-modules "${mods[*]}" --strip-debug --no-man-pages --no-header-files \
        "$compress" "${cds[@]}" --output "$out" >"$WORK/jlink.log" 2>&1 || {
        sed 's/^/  jlink: /' "$WORK/jlink.log" >&2
        return 1
    }
    # The no-compressed-oops CDS archive only serves heaps >= 32 GB: not worth 14 MB here.
    rm -f "$out/lib/server/classes_nocoops.jsa"
    "$out/bin/java" -Xshare:auto -version >/dev/null 2>&1 || return 1
}

build_host() {
    local jre="$WORK/jre" jdk="" c
    if [ $build_jre = 1 ]; then
        for c in $(jdk_candidates | awk '!seen[$0]++'); do
            log "trying jlink from $c"
            if jlink_jre "$c" "$jre"; then jdk=$c; break; fi
        done
        if [ -z "$jdk" ] && is_root; then
            log "no JDK could link; installing openjdk-17-jdk-headless (it ships jmods)"
            apt_install openjdk-17-jdk-headless || return 1
            c=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)
            jlink_jre "$c" "$jre" && jdk=$c
        fi
        [ -n "$jdk" ] || { log "no usable JDK for jlink"; return 1; }
        log "JRE linked from $jdk: $("$jre/bin/java" -version 2>&1 | head -1) [$(du -sh "$jre" | cut -f1)]"

        local root="$WORK/rootfs-jre"
        write_etc "$root"
        mkdir -p "$root/opt"
        cp -a "$jre" "$root/opt/jre"
        copy_runtime_libs "$root" "$root/opt/jre"
        import_rootfs "$root" "$BASE_JRE_IMAGE" \
            --change "ENV PATH=/opt/jre/bin:/usr/bin:/bin" \
            --change "ENV JAVA_HOME=/opt/jre" \
            --change "ENV LANG=C.UTF-8" \
            --change "LABEL org.opencontainers.image.title=raftkv-base-jre org.opencontainers.image.description=\"jlink JRE $(java_major "$jdk") from $(basename "$jdk"), FROM scratch\"" \
            --change "USER $APP_UID"
        # Prove the image is complete: the JRE must start with nothing but the image's own files.
        docker run --rm --network none "$BASE_JRE_IMAGE" java -Xshare:auto -version >/dev/null 2>&1 ||
            { docker rmi "$BASE_JRE_IMAGE" >/dev/null 2>&1 || true; log "the JRE does not run in $BASE_JRE_IMAGE"; return 1; }
    fi
    if [ $build_native = 1 ]; then
        local root="$WORK/rootfs-native"
        write_etc "$root"
        copy_runtime_libs "$root"
        import_rootfs "$root" "$BASE_NATIVE_IMAGE" \
            --change "ENV PATH=/usr/bin:/bin" \
            --change "ENV LANG=C.UTF-8" \
            --change "LABEL org.opencontainers.image.title=raftkv-base-native org.opencontainers.image.description=\"glibc+zlib runtime, FROM scratch\"" \
            --change "USER $APP_UID"
        # Prove the loader finds libc and zlib in the image (what a native executable needs first).
        local ld z
        ld=$(ldd /bin/true | awk '$1 ~ /^\// && /ld-linux/ { print $1; exit }'); z=$(lib_path libz.so.1)
        docker run --rm --network none "$BASE_NATIVE_IMAGE" "$ld" --list "$z" 2>&1 | grep -q 'libc.so.6 =>' ||
            { docker rmi "$BASE_NATIVE_IMAGE" >/dev/null 2>&1 || true; log "the loader does not work in $BASE_NATIVE_IMAGE"; return 1; }
    fi
}

# ---------------------------------------------------------------------------------------------------------
# debootstrap method (fallback)
# ---------------------------------------------------------------------------------------------------------

debian_mirror() {
    [ -n "${DEBIAN_MIRROR:-}" ] && { echo "$DEBIAN_MIRROR"; return; }
    local m
    m=$(grep -h -o -E 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
            /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -1 | tr -d ' ')
    echo "${m:-http://deb.debian.org/debian}"
}

slim_rootfs() {
    local root=$1
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
}

add_app_user() {
    local root=$1
    grep -q "^$APP_USER:" "$root/etc/passwd" ||
        echo "$APP_USER:x:$APP_UID:0:raftkv:/home/$APP_USER:/usr/sbin/nologin" >>"$root/etc/passwd"
    grep -q "^$APP_USER:" "$root/etc/group" || echo "$APP_USER:x:$APP_UID:" >>"$root/etc/group"
    mkdir -p "$root/home/$APP_USER"; chown "$APP_UID:0" "$root/home/$APP_USER"; chmod 0770 "$root/home/$APP_USER"
    chmod 1777 "$root/tmp"
}

build_debootstrap() {
    is_root || die "debootstrap needs root"
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap || die "cannot install debootstrap"
    local mirror root="$WORK/rootfs-debian"; mirror=$(debian_mirror)
    log "debootstrap --variant=minbase bookworm from $mirror (about 30 s)"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    add_app_user "$root"
    if [ $build_native = 1 ]; then
        local copy="$WORK/rootfs-debian-native"
        cp -a "$root" "$copy"
        slim_rootfs "$copy"
        import_rootfs "$copy" "$BASE_NATIVE_IMAGE" --change "ENV LANG=C.UTF-8" --change "USER $APP_UID"
        rm -rf "$copy"
    fi
    if [ $build_jre = 1 ]; then
        log "installing openjdk-17-jre-headless in the rootfs"
        cp /etc/resolv.conf "$root/etc/resolv.conf"
        mount -t proc proc "$root/proc"
        local rc=0
        chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
            apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null' || rc=$?
        umount "$root/proc"
        [ $rc = 0 ] || die "installing the JRE in the rootfs failed"
        local jhome; jhome=$(chroot "$root" sh -c 'dirname "$(dirname "$(readlink -f /usr/bin/java)")"')
        mkdir -p "$root/opt"; ln -sfn "$jhome" "$root/opt/jre"
        : >"$root/etc/resolv.conf"
        slim_rootfs "$root"
        import_rootfs "$root" "$BASE_JRE_IMAGE" \
            --change "ENV PATH=/opt/jre/bin:/usr/local/bin:/usr/bin:/bin" \
            --change "ENV JAVA_HOME=/opt/jre" --change "ENV LANG=C.UTF-8" --change "USER $APP_UID"
    fi
}

# ---------------------------------------------------------------------------------------------------------

start=$SECONDS
case "$BASE_METHOD" in
    host) build_host || die "host method failed" ;;
    debootstrap) build_debootstrap ;;
    auto) build_host || { log "host method failed; falling back to debootstrap"; build_debootstrap; } ;;
    *) die "unknown BASE_METHOD=$BASE_METHOD (auto|host|debootstrap)" ;;
esac
log "done in $((SECONDS - start)) s"
