# Dockerfile: sre in a container, on debian:12-slim with the runtime
# libraries only. examples/kubernetes/ runs this image; so can cron,
# systemd (docker run) or CI:
#
#   docker build -t sre:0.1.0 .
#   docker run --rm sre:0.1.0 version
#   docker run -d -v sre-state:/var/lib/sre -v /etc/sre:/etc/sre:ro \
#       --env-file /etc/sre/env sre:0.1.0 run --watch
#
# Two stages: sre is built in debian:12 with the -dev packages of the
# Makefile's deps list, and only what `make install` puts in place (the
# binary, the man pages, the completions) is copied into debian:12-slim,
# which gets the shared libraries and no compiler, headers or -dev package.
# tests/t6620-run-examples.sh checks that the runtime stage installs no
# -dev package and every library ./sre links or loads.
#
# It lives at the top of the repository because its build context is the
# whole source tree (.dockerignore keeps out build products and the tests'
# scratch directories); `docker build .` finds it there.

FROM debian:12 AS build
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        gcc libc6-dev make pkg-config binutils scdoc \
        libcurl4-openssl-dev libcjson-dev libgit2-dev libsqlite3-dev \
        libreadline-dev libyaml-dev && \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# libcurl and libgit2 are loaded on first use by the sonames the Makefile
# reads here (lib/lazy-load.h): the runtime stage installs those packages.
RUN make -j"$(nproc)" sre && \
    make install PREFIX=/usr/local DESTDIR=/stage

FROM debian:12-slim
# The shared libraries of ./sre: linked (libcjson1, libsqlite3-0,
# libyaml-0-2 for kubeconfigs, libreadline8 for sre diagnose -i) and loaded
# on first use (libcurl4, libgit2-1.5); ca-certificates for libcurl to
# verify the servers sre talks to over HTTPS.
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        libcurl4 libcjson1 libgit2-1.5 libsqlite3-0 libreadline8 libyaml-0-2 \
        ca-certificates && \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /stage/ /
# A user of its own, uid 10001 (examples/kubernetes runs as it), whose home
# holds the store: XDG_STATE_HOME makes sre's default store
# /var/lib/sre/sre.db, its run lock beside it, as under systemd.
RUN groupadd --system --gid 10001 sre && \
    useradd --system --uid 10001 --gid sre --home-dir /var/lib/sre \
        --shell /usr/sbin/nologin sre && \
    install -d -o sre -g sre -m 0700 /var/lib/sre && \
    install -d -m 0755 /etc/sre
ENV HOME=/var/lib/sre XDG_STATE_HOME=/var/lib
VOLUME /var/lib/sre
WORKDIR /var/lib/sre
USER 10001:10001
ENTRYPOINT ["sre"]
CMD ["run", "--watch"]
