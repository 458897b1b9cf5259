# tchat-local/redis:7-debian — a stand-in for the official redis:7 image on
# machines without Docker Hub (deploy/docker-compose.local.yml): Debian 12's
# redis-server (7.0). Like the official image it runs redis-server in /data as
# user redis and, with no configuration file, turns protected mode off so the
# other containers of the compose network may connect (no password there: the
# compose network is the boundary). It is not the official image.
ARG BASE_IMAGE=debian:12
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# policy-rc.d: the packages' scripts must not try to start their server here.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold redis-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d /var/log/apt /var/log/dpkg.log \
 && install -d -o redis -g redis -m 0750 /data
COPY deploy/docker/local/redis-entrypoint.sh /usr/local/bin/tchat-redis-entrypoint
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/tchat-redis-entrypoint"]
CMD ["redis-server"]
