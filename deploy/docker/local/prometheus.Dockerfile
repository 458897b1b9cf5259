# tchat-local/prometheus:2.42-debian — a stand-in for prom/prometheus:v2.42.0 on
# machines without Docker Hub (deploy/docker-compose.local.yml): Debian 12's
# prometheus package (2.42.0), run like the official image (ENTRYPOINT the
# server, arguments from docker-compose.yml, data in /prometheus, an
# unprivileged user). It is not the official image.
ARG BASE_IMAGE=debian:12
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# policy-rc.d: the packages' scripts must not try to start their server here.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold prometheus \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d /var/log/apt /var/log/dpkg.log \
 && install -d -o prometheus -g prometheus -m 0750 /prometheus
WORKDIR /prometheus
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
