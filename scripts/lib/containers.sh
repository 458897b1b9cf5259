# shellcheck shell=bash
# The container images of deploy/docker/Dockerfile: building them, and running the
# four services from them against the test stack's PostgreSQL and Redis (host
# network: every container listens on 127.0.0.1). Requires common.sh, docker.sh,
# postgres.sh, redis.sh, services.sh.

# The images: the four services and the migration runner, each a target of the
# Dockerfile, tagged tchat/<name>:dev (the dev overlay, docker-compose) and
# tchat/<name>:<version> (the project's version, as the production overlay's tag).
TCHAT_IMAGES=(auth messaging payment notification migrate)
TCHAT_DOCKERFILE="$TCHAT_ROOT/deploy/docker/Dockerfile"

tchat::project_version() {
  sed -n 's/^project(tchat VERSION \([0-9.]*\).*/\1/p' "$TCHAT_ROOT/CMakeLists.txt"
}
tchat::container_name() { echo "${TCHAT_CONTAINER_PREFIX:-tchat-ctest}-$1"; }

# Stages the programs of the host build $TCHAT_BUILD_DIR for the Dockerfile's
# "prebuilt" stage: .containers-bin/tchat-* (debug information stripped) and each
# one's package list (deploy/docker/runtime-packages.sh, run here: the host is the
# same Debian 12 as the images).
tchat::images_stage_prebuilt() {
  local dir="$TCHAT_ROOT/.containers-bin" p
  grep -q '^VERSION_ID="12"' /etc/os-release ||
    tchat::die "--from-build-dir needs a Debian 12 host (the binaries run on Debian 12 images)"
  rm -rf "$dir"
  mkdir -p "$dir"
  for p in "${TCHAT_IMAGES[@]}"; do
    [[ -x "$TCHAT_BUILD_DIR/bin/tchat-$p" ]] || tchat::die "$TCHAT_BUILD_DIR/bin/tchat-$p not found (scripts/build.sh)"
    objcopy --strip-debug "$TCHAT_BUILD_DIR/bin/tchat-$p" "$dir/tchat-$p"
    "$TCHAT_ROOT/deploy/docker/runtime-packages.sh" "$dir/tchat-$p" >"$dir/$p.packages"
  done
}

# Builds every image (the builder stage once: the later targets reuse its layers);
# with $1 = prebuilt, from the host build instead (tchat::images_stage_prebuilt).
# Prints each target's build time.
tchat::images_build() {
  local binaries="${1:-build}" version target start
  version="$(tchat::project_version)"
  [[ -n "$version" ]] || tchat::die "no project version in CMakeLists.txt"
  if [[ "$binaries" == prebuilt ]]; then tchat::images_stage_prebuilt; fi
  for target in "${TCHAT_IMAGES[@]}"; do
    start=$SECONDS
    tchat::log "building tchat/$target:dev (tchat/$target:$version, binaries: $binaries)"
    if ! DOCKER_BUILDKIT=1 tchat::docker build --network host --progress plain --build-arg "BINARIES=$binaries" \
      --build-arg "TCHAT_VERSION=$version" --build-arg "BUILD_JOBS=${TCHAT_BUILD_JOBS:-2}" \
      -f "$TCHAT_DOCKERFILE" --target "$target" \
      -t "tchat/$target:dev" -t "tchat/$target:$version" "$TCHAT_ROOT" \
      >"$TCHAT_RUN_DIR/logs/docker-build-$target.log" 2>&1; then
      tail -n 40 "$TCHAT_RUN_DIR/logs/docker-build-$target.log" >&2
      tchat::die "docker build --target $target failed (log $TCHAT_RUN_DIR/logs/docker-build-$target.log)"
    fi
    tchat::log "built tchat/$target:dev in $((SECONDS - start)) s"
  done
}

# One line per image: name and size in MB.
tchat::images_sizes() {
  local target bytes
  for target in "${TCHAT_IMAGES[@]}"; do
    bytes="$(tchat::docker image inspect -f '{{.Size}}' "tchat/$target:dev")" || return 1
    printf '  %-24s %4d MB\n' "tchat/$target:dev" "$((bytes / 1000000))"
  done
}

# Fails when a program in its image misses a shared library (ldd says "not found").
tchat::image_ldd_check() {
  local target="$1" out
  out="$(tchat::docker run --rm --network none --entrypoint ldd "tchat/$target:dev" \
    "/usr/local/bin/tchat-$target" 2>&1)" || {
    echo "$out" >&2
    return 1
  }
  if grep -q 'not found' <<<"$out"; then
    echo "tchat/$target:dev: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')" >&2
    return 1
  fi
  echo "  tchat/$target:dev: ldd finds all $(grep -c '=>' <<<"$out") libraries of tchat-$target"
}

# Writes service $1's environment, as scripts/lib/services.sh gives it to the
# process (config.env, secrets, PORT, DATABASE_URL), as a docker --env-file, with
# the paths the container sees: its JWT key file and media store.
tchat::container_env_file() {
  local svc="$1" file="$2" name
  (
    tchat::service_env "$svc" "$(tchat::service_port "$svc")"
    export TCHAT_JWT_KEY_FILE=/run/tchat/jwt-signing-keys.json TCHAT_MEDIA_DIR=/var/lib/tchat/media
    for name in $( (sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$(tchat::config_file)" \
      "$(tchat::secrets_file)"; echo PORT DATABASE_URL DATABASE_REPLICA_URL TCHAT_MEDIA_DIR) | sort -u); do
      if [[ -v $name ]]; then
        [[ "${!name}" != *$'\n'* ]] || tchat::die "$name holds a newline: not for an env file"
        printf '%s=%s\n' "$name" "${!name}"
      fi
    done
  ) >"$file"
  chmod 600 "$file"
}

# Starts service $1 from its image as the manifests run it: uid 10001, read-only
# root filesystem with a tmpfs on /tmp (the manifests' emptyDir, 64 MiB), no
# capabilities, no privilege escalation; the host network; its log (stdout) is
# copied to the service log file the tests read.
tchat::container_start() {
  local svc="$1" name dir envfile
  name="$(tchat::container_name "$svc")"
  dir="$TCHAT_RUN_DIR/containers"
  envfile="$dir/$svc.env"
  mkdir -p "$dir" "$TCHAT_RUN_DIR/logs" "$TCHAT_RUN_DIR/pids"
  if tchat::port_open "$(tchat::service_port "$svc")"; then
    tchat::die "port $(tchat::service_port "$svc") ($svc) is taken by another process"
  fi
  tchat::container_env_file "$svc" "$envfile"
  # The key file as the service's user may read it (the host's copy is root's, 0600).
  install -m 0400 -o 10001 -g 10001 "$(tchat::jwt_key_file)" "$dir/jwt-signing-keys.json"
  local -a mounts=(-v "$dir/jwt-signing-keys.json:/run/tchat/jwt-signing-keys.json:ro")
  if [[ "$svc" == messaging ]]; then
    # The media store: a host directory (the gateway serves files from it), as the PVC.
    install -d -o 10001 -g 10001 -m 0755 "$(tchat::media_dir)"
    mounts+=(-v "$(tchat::media_dir):/var/lib/tchat/media")
  fi
  tchat::docker rm -f "$name" >/dev/null 2>&1 || true
  tchat::docker run -d --name "$name" --network host --env-file "$envfile" \
    --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m --cap-drop ALL \
    --security-opt no-new-privileges:true "${mounts[@]}" "tchat/$svc:dev" >/dev/null ||
    return 1
  # Its log, as a file: tests read auth's (TCHAT_TEST_AUTH_LOG).
  tchat::docker logs -f "$name" >>"$(tchat::service_log "$svc")" 2>&1 </dev/null 9>&- &
  echo $! >"$TCHAT_RUN_DIR/pids/$svc-docker-logs.pid"
}

tchat::container_status() { tchat::docker inspect -f "{{$2}}" "$(tchat::container_name "$1")" 2>/dev/null; }
tchat::_container_ready() { tchat::_ready "$(tchat::service_port "$1")"; }
tchat::_container_healthy() { [[ "$(tchat::container_status "$1" .State.Health.Status)" == healthy ]]; }

# Starts the four containers (auth first and ready, as tchat::services_start_all),
# then waits until each answers /health/ready and its HEALTHCHECK reports healthy.
tchat::containers_start_all() {
  local svc start=$SECONDS
  for svc in "${TCHAT_SERVICES[@]}"; do
    tchat::log "starting $svc from tchat/$svc:dev"
    tchat::container_start "$svc" || return 1
    if [[ "$svc" == auth ]]; then tchat::wait_until 60 tchat::_container_ready auth || true; fi
  done
  for svc in "${TCHAT_SERVICES[@]}"; do
    if ! tchat::wait_until 60 tchat::_container_ready "$svc"; then
      echo "$svc is not ready; its log:" >&2
      tail -n 20 "$(tchat::service_log "$svc")" >&2
      return 1
    fi
  done
  echo "  the four containers ready in $((SECONDS - start)) s"
  for svc in "${TCHAT_SERVICES[@]}"; do
    if ! tchat::wait_until 90 tchat::_container_healthy "$svc"; then
      echo "$svc: HEALTHCHECK says $(tchat::container_status "$svc" .State.Health.Status)" >&2
      tchat::docker inspect -f '{{json .State.Health}}' "$(tchat::container_name "$svc")" >&2
      return 1
    fi
  done
  echo "  every HEALTHCHECK healthy after $((SECONDS - start)) s"
}

# Fails unless container $1 runs as 10001 with a read-only root filesystem.
tchat::container_security_check() {
  local svc="$1" name uid ro
  name="$(tchat::container_name "$svc")"
  uid="$(tchat::docker exec "$name" id -u)" || return 1
  ro="$(tchat::container_status "$svc" .HostConfig.ReadonlyRootfs)"
  if [[ "$uid" != 10001 || "$ro" != true ]]; then
    echo "$svc: uid $uid (want 10001), read-only root filesystem: $ro" >&2
    return 1
  fi
  if tchat::docker exec "$name" touch /usr/local/bin/x 2>/dev/null; then
    echo "$svc: wrote to its root filesystem" >&2
    return 1
  fi
  echo "  $svc: uid 10001, root filesystem read-only"
}

# docker stop (SIGTERM, then SIGKILL after the grace period $2): fails unless the
# service logged the signal and a stop with no unfinished connection, and exited
# 0 within the grace period.
tchat::container_stop_check() {
  local svc="$1" grace="${2:-30}" name start code log
  name="$(tchat::container_name "$svc")"
  start=$SECONDS
  tchat::docker stop -t "$grace" "$name" >/dev/null || return 1
  code="$(tchat::container_status "$svc" .State.ExitCode)"
  log="$(tchat::docker logs --tail 20 "$name" 2>&1)"
  if [[ "$code" != 0 ]] || ((SECONDS - start >= grace)) ||
    ! grep -q '"msg":"shutting down","signal":15' <<<"$log" ||
    ! grep -q '"msg":"stopped","unfinished_connections":0' <<<"$log"; then
    echo "$svc: exit code $code after $((SECONDS - start)) s of docker stop -t $grace; last lines:" >&2
    tail -n 5 <<<"$log" >&2
    return 1
  fi
  echo "  $svc: SIGTERM, drained (0 unfinished connections), exit 0 after $((SECONDS - start)) s"
}

# Removes the containers and stops their log copies.
tchat::containers_remove_all() {
  local svc pid
  for svc in "${TCHAT_SERVICES[@]}"; do
    tchat::docker rm -f "$(tchat::container_name "$svc")" >/dev/null 2>&1 || true
    pid="$(cat "$TCHAT_RUN_DIR/pids/$svc-docker-logs.pid" 2>/dev/null)" || continue
    [[ "$pid" =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
    rm -f "$TCHAT_RUN_DIR/pids/$svc-docker-logs.pid"
  done
  return 0
}
