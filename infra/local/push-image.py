#!/usr/bin/env python3
"""Push a small synthetic image to a Distribution registry (stdlib only).

Usage: push-image.py BASE_URL REPOSITORY TAG CREATED [OS/ARCH]
  e.g. push-image.py http://127.0.0.1:5000 cidemo/echo-server v1.0.0 2026-01-01T00:00:00Z

Uploads a layer and an image config (with the given `created` time) and puts
an OCI image manifest under TAG. Prints the manifest digest. For the demo and
for trying Updraft against a local registry; anonymous push only.
"""
import hashlib
import json
import sys
import urllib.error
import urllib.request


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"push-image: {method} {url}: HTTP {e.code}: {e.read()[:200]!r}")
    except urllib.error.URLError as e:
        sys.exit(f"push-image: {method} {url}: {e.reason} (is the registry running?)")


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(base, repo, data):
    _, headers, _ = request("POST", f"{base}/v2/{repo}/blobs/uploads/")
    location = headers.get("Location") or headers.get("location")
    if not location:
        sys.exit("push-image: the registry sent no upload Location")
    if not location.startswith("http"):
        location = base + location
    sep = "&" if "?" in location else "?"
    request("PUT", f"{location}{sep}digest={digest(data)}", data,
            {"Content-Type": "application/octet-stream"})
    return digest(data)


def main(argv):
    if len(argv) not in (5, 6):
        sys.exit(__doc__)
    base, repo, tag, created = argv[1].rstrip("/"), argv[2], argv[3], argv[4]
    os_name, arch = (argv[5] if len(argv) == 6 else "linux/amd64").split("/", 1)
    layer = f"layer of {repo}:{tag} built {created}".encode()
    layer_digest = blob(base, repo, layer)
    config = json.dumps({
        "architecture": arch, "os": os_name, "created": created,
        "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        "config": {"Labels": {"org.opencontainers.image.version": tag}},
    }).encode()
    config_digest = blob(base, repo, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": len(layer)}],
    }).encode()
    request("PUT", f"{base}/v2/{repo}/manifests/{tag}", manifest,
            {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    print(digest(manifest))


if __name__ == "__main__":
    main(sys.argv)
