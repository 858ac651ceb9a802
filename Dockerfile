# tilesrv — two stages: build on Debian 12, run on a slim Debian 12 with the runtime
# libraries only. The image serves the bundled demo unless a config is mounted:
#   docker build -t tilesrv .
#   docker run -p 8080:8080 tilesrv
#   docker run -p 8080:8080 -v $PWD/my:/etc/tilesrv tilesrv serve -c /etc/tilesrv/tilesrv.yaml --listen 0.0.0.0:8080
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libgdal-dev libproj-dev libgeos-dev libpng-dev \
      libdeflate-dev libjpeg62-turbo-dev zlib1g-dev libmicrohttpd-dev libyaml-dev libxml2-dev \
      libfreetype-dev libharfbuzz-dev libsqlite3-dev libcurl4-openssl-dev libmosquitto-dev \
      libjansson-dev libhiredis-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY tilesrv tilesrv
COPY tests tests
COPY bench/CMakeLists.txt bench/
COPY data data
COPY styles styles
COPY web web
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=OFF \
      -DCMAKE_INSTALL_PREFIX=/opt/tilesrv \
    && cmake --build /build -j"$(nproc)" && cmake --install /build

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgdal32 libproj25 proj-data libgeos-c1v5 libpng16-16 libdeflate0 libmicrohttpd12 \
      libyaml-0-2 libxml2 libjpeg62-turbo libfreetype6 libharfbuzz0b libsqlite3-0 libcurl4 \
      libmosquitto1 libjansson4 libhiredis0.14 fonts-dejavu-core ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /nonexistent --shell /usr/sbin/nologin tilesrv
COPY --from=build /opt/tilesrv /opt/tilesrv
ENV PATH=/opt/tilesrv/bin:$PATH
USER tilesrv
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["tilesrv"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
