#!/usr/bin/env python3
"""Summarise an Updraft result event (JSON on stdin) in a few lines (demo.sh)."""
import json
import sys

event = json.load(sys.stdin)
stats = event.get("stats", {})
if event["kind"] == "ResolveRequest":
    print(
        "  ResolveRequest: {} applications, {} repositories listed once each, "
        "{} registry requests, metadata fetched for {} tags ({} from the cache), "
        "{} new tags".format(
            len(event["applications"]), stats["repositories"], stats["registryRequests"],
            stats["metadataFetched"], stats["metadataCached"], stats["newTags"],
        )
    )
else:
    for decision in event["decisions"]:
        r = decision["resolution"]
        current = r.get("current") or "(not known)"
        if decision["update"]:
            change = "{} -> {}".format(current, r["selected"])
        else:
            change = "stays on {}".format(r.get("current") or r["selected"])
        image = decision["image"].split("/")[-1]
        print("  {:28} {:16} {:24} {}".format(decision["application"], image, change, r["reason"]))
    print("  {}: {} applications to write back".format(event["kind"], len(event["applications"])))
for error in event.get("errors", []):
    print("  error: {}: {}".format(error["application"], error["message"]))
