# syntax=docker/dockerfile:1
# The messaging service (port 8082). Build from the repository root:
#   docker build -f deploy/docker/messaging.Dockerfile -t tchat/messaging .
# Stage 1 compiles on Debian 12 with the project's own dependency script; stage 2
# is Debian 12 slim with the runtime libraries only, running as an unprivileged
# user (uid 10001, as the Kubernetes manifests expect).

FROM debian:12 AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the dependency list changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
COPY scripts/lib/common.sh scripts/lib/common.sh
RUN apt-get update -qq && scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCHAT_SANITIZE=OFF \
      -DTCHAT_E2E_TESTS=OFF -DTCHAT_BENCHMARKS=OFF \
 && ninja -C /build tchat-messaging

FROM debian:12-slim
ARG TCHAT_VERSION=0.1.0
# Runtime libraries of the binary (ldd build/bin/tchat-messaging), curl for HEALTHCHECK.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      ca-certificates curl libpq5 libssl3 libhiredis0.14 libsodium23 \
      libboost-json1.81.0 libboost-url1.81.0 libphonenumber8 libprotobuf32 \
      libicu72 libabsl20220623 libgoogle-perftools4 \
      libvips42 libavformat59 libavcodec59 libavutil57 libswscale6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 tchat \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin tchat
COPY --from=build /build/bin/tchat-messaging /usr/local/bin/tchat-messaging
ENV PORT=8082 TCHAT_VERSION=${TCHAT_VERSION}
USER 10001:10001
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8082/health || exit 1
# SIGTERM drains in-flight requests (core/include/tchat/core/service/app.hpp); docker stop's default 10 s is enough.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tchat-messaging"]
