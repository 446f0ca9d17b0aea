# docker buildx bake -f docker/docker-bake.hcl [--push]     HUB=registry/prefix TAG=1.0.0
# Every image of the suite, for linux/amd64 and linux/arm64, named like Istio's examples-bookinfo-* set.
variable "HUB" { default = "ghcr.io/mesh-samples" }
variable "TAG" { default = "1.0.0" }
variable "PLATFORMS" { default = "linux/amd64,linux/arm64" }

group "default" {
  targets = ["productpage", "details", "reviews", "ratings", "mysqldb", "storage-app"]
}

target "_common" {
  context    = "."
  dockerfile = "docker/Dockerfile"
  platforms  = split(",", PLATFORMS)
}

target "productpage" {
  inherits = ["_common"]
  name     = "productpage-${item.name}"
  matrix   = { item = [{ name = "v1", flood = "0" }, { name = "v-flooding", flood = "100" }] }
  args     = { PRODUCT = "productpage", SERVICE_VERSION = item.name, FLOOD_FACTOR = item.flood }
  tags     = ["${HUB}/examples-bookinfo-productpage-${item.name}:${TAG}"]
}

target "details" {
  inherits = ["_common"]
  name     = "details-${item.name}"
  matrix   = { item = [{ name = "v1", external = "false" }, { name = "v2", external = "true" }] }
  args     = { PRODUCT = "details", SERVICE_VERSION = item.name, ENABLE_EXTERNAL_BOOK_SERVICE = item.external }
  tags     = ["${HUB}/examples-bookinfo-details-${item.name}:${TAG}"]
}

target "reviews" {
  inherits = ["_common"]
  name     = "reviews-${item.name}"
  matrix   = { item = [{ name = "v1", ratings = "false", color = "black" }, { name = "v2", ratings = "true", color = "black" }, { name = "v3", ratings = "true", color = "red" }] }
  args     = { PRODUCT = "reviews", SERVICE_VERSION = item.name, ENABLE_RATINGS = item.ratings, STAR_COLOR = item.color }
  tags     = ["${HUB}/examples-bookinfo-reviews-${item.name}:${TAG}"]
}

target "ratings" {
  inherits = ["_common"]
  name     = "ratings-${replace(item, "-", "_")}"
  matrix   = { item = ["v1", "v2", "v-faulty", "v-delayed", "v-unavailable", "v-unhealthy"] }
  args     = { PRODUCT = "ratings", SERVICE_VERSION = item }
  tags     = ["${HUB}/examples-bookinfo-ratings-${item}:${TAG}"]
}

target "mysqldb" {
  inherits   = ["_common"]
  dockerfile = "docker/mysqldb/Dockerfile"
  tags       = ["${HUB}/examples-bookinfo-mysqldb:${TAG}"]
}

target "storage-app" {
  inherits = ["_common"]
  args     = { PRODUCT = "storage-app", SERVICE_VERSION = "v1" }
  tags     = ["${HUB}/storage-app:${TAG}"]
}
