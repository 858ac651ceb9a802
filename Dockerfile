# tilesrv — two stages on Debian 12 (bookworm): the build stage installs the build
# dependencies (scripts/deps.sh, the list the README's set-up uses, plus Debian's nodejs and
# npm), builds the web map bundle (npm ci && npm run build -> web/dist) and the same Release
# binary as the README (cmake -DCMAKE_BUILD_TYPE=Release), and installs binary, demo data,
# styles and web map with `cmake --install`; the runtime stage has only the runtime
# libraries and runs as an unprivileged user. It serves the bundled demo unless a config is
# mounted:
#   docker build -t tilesrv .
#   docker run -p 8080:8080 tilesrv
#   docker run -p 8080:8080 -v $PWD/my:/etc/tilesrv:ro tilesrv \
#       serve -c /etc/tilesrv/tilesrv.yaml --listen 0.0.0.0:8080
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/deps.sh /tmp/deps.sh
# deps.sh installs what is missing (apt-get update included), and Debian's nodejs and npm
# when npm is missing (here: always)
RUN /tmp/deps.sh && command -v npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# the npm packages first: this layer is rebuilt only when the lock file changes
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web web
RUN npm run build --silent && test -s web/dist/main.js
COPY CMakeLists.txt ./
COPY tilesrv tilesrv
COPY data data
COPY styles styles
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=OFF \
      -DCMAKE_INSTALL_PREFIX=/opt/tilesrv \
    && cmake --build /build -j"$(nproc)" \
    && cmake --install /build \
    && /opt/tilesrv/bin/tilesrv --version

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
# the libraries the binary links (readelf -d: NEEDED) and what they need at run time:
# PROJ's grids database (proj-data), fonts for labels, CA certificates for HTTPS feeds
RUN apt-get update -q && apt-get install -y -q --no-install-recommends \
      libgdal32 libproj25 proj-data libgeos-c1v5 libpng16-16 libdeflate0 libmicrohttpd12 \
      libyaml-0-2 libxml2 libjpeg62-turbo libfreetype6 libharfbuzz0b libsqlite3-0 libcurl4 \
      libmosquitto1 libjansson4 libhiredis0.14 libpq5 zlib1g fonts-dejavu-core ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tilesrv \
    && useradd --system --uid 10001 --gid tilesrv --home-dir /var/lib/tilesrv \
         --no-create-home --shell /usr/sbin/nologin tilesrv \
    && install -d -o tilesrv -g tilesrv -m 0750 /var/lib/tilesrv
COPY --from=build /opt/tilesrv /opt/tilesrv
ENV PATH=/opt/tilesrv/bin:$PATH
# caches a mounted config puts under a relative path land here (writable by the user)
WORKDIR /var/lib/tilesrv
USER 10001:10001
EXPOSE 8080
# /health answers 200 while the server serves (also when a persistent cache is degraded);
# bash's /dev/tcp: no curl in the image
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200$'"]
ENTRYPOINT ["tilesrv"]
# the demo config listens on 127.0.0.1: inside a container it must be every address
CMD ["serve", "--listen", "0.0.0.0:8080"]
