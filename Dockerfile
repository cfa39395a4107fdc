# syntax=docker/dockerfile:1
# Multi-stage build: a static binary with every asset, map, font and the
# holiday and region tables embedded, on a distroless non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/yiping-ioc/yiping/cli.version=${VERSION}" -o /out/yiping . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/yiping /usr/local/bin/yiping
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV YIPING_DATA_DIR=/data YIPING_ADDR=:8080
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/yiping"]
CMD ["serve"]
