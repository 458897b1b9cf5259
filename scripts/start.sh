#!/usr/bin/env bash
# Runs the whole Tchat system locally: installs dependencies, builds, starts
# PostgreSQL 15 and Redis (private servers under .run/), creates and migrates the
# databases, starts the four services and the nginx gateway, and waits until all
# of them are ready. Re-running it rebuilds and restarts the services (databases
# keep running and keep their data). Stop everything with scripts/stop.sh.
#
# Environment (defaults in brackets): TCHAT_RUN_DIR [.run], TCHAT_BUILD_DIR [build],
# TCHAT_GATEWAY_PORT [8080], TCHAT_AUTH_PORT [8081], TCHAT_MESSAGING_PORT [8082],
# TCHAT_PAYMENT_PORT [8083], TCHAT_NOTIFICATION_PORT [8084], TCHAT_PG_PORT [5432],
# TCHAT_REDIS_PORT [6379], TCHAT_PSP_SIM_PORT [8089], LOG_LEVEL [info], TCHAT_DEV_OTP [1],
# LISTEN_ADDRESS [127.0.0.1; with development OTP another address also needs
# TCHAT_DEV_OTP_ALLOW_NETWORK=1], TCHAT_TRUSTED_PROXIES [127.0.0.0/8,::1],
# TCHAT_DEBUG_ENDPOINTS [0], TCHAT_REPLICAS [1; N (up to 9): N processes of each
# service behind the gateway, replica r on its service's port + 10*r, the
# service's own port balanced by the gateway (scripts/lib/common.sh,
# docs/operations/replicas.md); recorded in $TCHAT_RUN_DIR/replicas and kept by
# later starts], TCHAT_PG_REPLICA [0; 1: a streaming read replica of
# PostgreSQL on TCHAT_PG_REPLICA_PORT (primary + 10) that the services read from,
# docs/operations/read-replica.md], TCHAT_REDIS_CLUSTER [0; 1: the services use a
# private Redis Cluster on TCHAT_REDIS_CLUSTER_PORT (7001) .. +5 instead of the single
# Redis], TCHAT_PUSH_WEBHOOK_URL, TCHAT_SMS_WEBHOOK_URL, the
# runbook's ConfigMap keys (db_max_open_conns, redis_pool_size, ...) and every
# other service setting (TCHAT_SERVICE_SETTINGS in scripts/lib/services.sh). The
# services' settings are recorded in $TCHAT_RUN_DIR/config.env and kept by later
# starts: a value in the environment replaces the recorded one (empty: the
# service's default).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$TCHAT_ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/pg_replica.sh
source "$TCHAT_ROOT/scripts/lib/pg_replica.sh"
# shellcheck source=scripts/lib/redis.sh
source "$TCHAT_ROOT/scripts/lib/redis.sh"
# shellcheck source=scripts/lib/services.sh
source "$TCHAT_ROOT/scripts/lib/services.sh"
# shellcheck source=scripts/lib/nginx.sh
source "$TCHAT_ROOT/scripts/lib/nginx.sh"
# shellcheck source=scripts/lib/web.sh
source "$TCHAT_ROOT/scripts/lib/web.sh"
# shellcheck source=scripts/lib/psp_sim.sh
source "$TCHAT_ROOT/scripts/lib/psp_sim.sh"

usage() {
  echo "Usage: $0 [--no-install] [--no-build]"
  echo "  --no-install   skip scripts/install-deps.sh"
  echo "  --no-build     use the binaries already in the build directory"
}

install=1
build=1
while (($#)); do
  case "$1" in
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

tchat::defaults
tchat::lock_run_dir 0

if ((install)); then "$TCHAT_ROOT/scripts/install-deps.sh"; fi
if ((build)); then
  if [[ "$TCHAT_BUILD_DIR" == "$TCHAT_ROOT/build-asan" ]]; then
    "$TCHAT_ROOT/scripts/build.sh" --asan
  elif [[ "$TCHAT_BUILD_DIR" == "$TCHAT_ROOT/build" ]]; then
    "$TCHAT_ROOT/scripts/build.sh"
  else
    tchat::warn "TCHAT_BUILD_DIR=$TCHAT_BUILD_DIR is not build/ or build-asan/: not building it"
  fi
  tchat::web_build
fi

# First, so that a bad combination of settings stops start-up before anything runs.
tchat::replicas >/dev/null
tchat::write_service_config
tchat::pg_start
tchat::redis_start
# TCHAT_REDIS_CLUSTER=1: the services use a private Redis Cluster instead
# (three masters and three replicas on 127.0.0.1:7001-7006, TCHAT_REDIS_CLUSTER_PORT).
# Recorded in config.env like TCHAT_PG_REPLICA (write_service_config exports it).
if [[ "${TCHAT_REDIS_CLUSTER:-0}" == 1 ]]; then tchat::redis_cluster_start; else tchat::redis_cluster_stop; fi
tchat::pg_setup_databases
if tchat::pg_replica_wanted; then tchat::pg_replica_start; else tchat::pg_replica_stop; fi

tchat::ensure_secrets
# Restart: services already running get the new build.
tchat::services_stop_all || true
tchat::record_replicas
# With replicas the gateway also balances each service's own port, where the
# services reach each other: it runs before them (and is reloaded below).
if (($(tchat::replicas) > 1)) || tchat::nginx_running; then tchat::nginx_start; fi
if ! tchat::services_start_all; then
  tchat::die "not every service became ready; the rest keeps running (scripts/stop.sh stops it)"
fi
tchat::psp_sim_start
tchat::nginx_start

cat <<INFO

Tchat is running.
  gateway       http://127.0.0.1:$TCHAT_GATEWAY_PORT/   (API under /v1/, web client at /)
  auth          http://127.0.0.1:$TCHAT_AUTH_PORT/health
  messaging     http://127.0.0.1:$TCHAT_MESSAGING_PORT/health
  payment       http://127.0.0.1:$TCHAT_PAYMENT_PORT/health
  notification  http://127.0.0.1:$TCHAT_NOTIFICATION_PORT/health
$(if (($(tchat::replicas) > 1)); then
  echo "  replicas      $(tchat::replicas) of each service, replica r on the port above + 10*r; the"
  echo "                ports above are the gateway's balancers over them (scripts/status.sh)"
fi)
  PostgreSQL    $(tchat::pg_admin_url)   (databases tchat_auth, tchat_messaging, tchat_payment, tchat_notification)
  Redis         $(tchat::redis_url)
$(if tchat::pg_replica_wanted; then echo "  PG replica    127.0.0.1:$(tchat::pg_replica_port) (reads; scripts/pg-replica.sh status)"; fi)

  logs          $TCHAT_RUN_DIR/logs/<service>$(if (($(tchat::replicas) > 1)); then echo "-<replica>"; fi).log, nginx-access.log, nginx-error.log;
                PostgreSQL: $(tchat::pg_log); Redis: $(tchat::redis_dir)/redis.log
  config        $(tchat::config_file)
  secrets       $(tchat::secrets_file) (admin token, PSP webhook secret, OTP pepper),
                $(tchat::jwt_key_file) (token signing key); both mode 600
  development OTP is on: /v1/auth/otp/request answers with "dev_code".
  top-ups       paid on the development payment-provider simulator behind the
                gateway at /dev/psp/pay (the wallet's "Top up" leads there;
                log: $(tchat::psp_sim_log))

Check health:  BASE_URL=http://127.0.0.1 $(if (($(tchat::replicas) > 1)); then echo "TCHAT_REPLICAS=$(tchat::replicas) "; fi)scripts/health-check.sh
Stop:          scripts/stop.sh
INFO
